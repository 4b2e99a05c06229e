"""Group Normalization (Wu & He, ECCV 2018): the layer, a small normalised CNN and the batch-size study.

Modules: `config` (torch-free), `layer` (`GroupNorm`, `make_norm`: BN / GN / LN / IN), `models`
(`NormCNN`), `study` (train one CNN per normalisation and batch size, test error). Nothing is imported
here, so ``import vision_attention.groupnorm`` stays cheap.
"""

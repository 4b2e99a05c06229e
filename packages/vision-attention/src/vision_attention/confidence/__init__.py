"""Learning confidence for out-of-distribution detection (DeVries & Taylor 2018).

Modules: `config` (torch-free), `models` (`ConfidenceCNN`: logits and a sigmoid confidence branch from the
penultimate layer), `loss` (the hints ``p' = c p + (1 - c) y`` on half the examples and the budget-controlled
lambda), `scores` (max-softmax, ODIN, confidence with and without the input perturbation), `metrics`
(AUROC, FPR at 95% TPR), `data` (in-distribution digits and the out-of-distribution sets), `study` (train
both networks, score every set). Nothing is imported here, so ``import vision_attention.confidence`` stays cheap.
"""

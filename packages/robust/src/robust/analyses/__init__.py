"""Analyses of robust issue 3, one module per study.

`robust.analyses.inevitable`: Shafahi et al.'s concentration bounds on the sphere and cube next to the
exact robustness of classifiers on data where they apply. `robust.analyses.tradeoff`: Tsipras et al.'s
synthetic distribution where robustness and accuracy are at odds, closed forms and trained linear models.
"""

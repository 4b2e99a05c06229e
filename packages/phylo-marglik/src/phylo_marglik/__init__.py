"""phylo_marglik: Marginal likelihood of a phylogenetic tree topology with branch lengths integrated out: the study's 19 estimators side by side.

Status: in development; no experiment is registered yet.
"""

__all__: list[str] = []
__version__ = "0.1.0"

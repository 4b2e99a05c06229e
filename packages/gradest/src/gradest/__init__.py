"""gradest: Gradient estimators for discrete expectations: REINFORCE with baselines, Gumbel-softmax, REBAR/RELAX and Rao-Blackwellized top-k.

Status: in development; no experiment is registered yet.
"""

__all__: list[str] = []
__version__ = "0.1.0"

"""survival: Individual survival distributions: MTLR and the ISD baselines, evaluated with concordance, Brier, L1, 1-calibration and D-calibration.

Status: in development; no experiment is registered yet.
"""

__all__: list[str] = []
__version__ = "0.1.0"

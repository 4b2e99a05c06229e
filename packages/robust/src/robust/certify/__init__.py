"""Certificates (robust issue 2): interval bound propagation (`robust.certify.ibp`), PixelDP
(`robust.certify.pixeldp`) and cost-sensitive certified robustness on IBP bounds (`robust.certify.cost`).

Names load on first use, so importing this package does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.lazy import lazy_exports

if TYPE_CHECKING:
    from robust.certify.cost import (
        COST_PRESETS,
        cost_matrix,
        cost_sensitive_loss,
        cost_sensitive_robust_error,
        reachable_targets,
    )
    from robust.certify.ibp import interval_bounds, margin_lower_bounds, verified, verified_accuracy
    from robust.certify.pixeldp import PixelDP, PixelDPResult

_WHERE = {
    **dict.fromkeys(
        (
            "COST_PRESETS",
            "cost_matrix",
            "cost_sensitive_loss",
            "cost_sensitive_robust_error",
            "reachable_targets",
        ),
        "robust.certify.cost",
    ),
    **dict.fromkeys(
        ("interval_bounds", "margin_lower_bounds", "verified", "verified_accuracy"), "robust.certify.ibp"
    ),
    **dict.fromkeys(("PixelDP", "PixelDPResult"), "robust.certify.pixeldp"),
}

__all__ = [
    "COST_PRESETS",
    "PixelDP",
    "PixelDPResult",
    "cost_matrix",
    "cost_sensitive_loss",
    "cost_sensitive_robust_error",
    "interval_bounds",
    "margin_lower_bounds",
    "reachable_targets",
    "verified",
    "verified_accuracy",
]

__getattr__, __dir__ = lazy_exports(__name__, _WHERE)

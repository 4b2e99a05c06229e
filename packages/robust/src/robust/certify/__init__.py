"""Certificates (robust issue 2): interval bound propagation (`robust.certify.ibp`) and PixelDP
(`robust.certify.pixeldp`).

Names load on first use, so importing this package does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.lazy import lazy_exports

if TYPE_CHECKING:
    from robust.certify.ibp import interval_bounds, margin_lower_bounds, verified, verified_accuracy
    from robust.certify.pixeldp import PixelDP, PixelDPResult

_WHERE = {
    **dict.fromkeys(
        ("interval_bounds", "margin_lower_bounds", "verified", "verified_accuracy"), "robust.certify.ibp"
    ),
    **dict.fromkeys(("PixelDP", "PixelDPResult"), "robust.certify.pixeldp"),
}

__all__ = [
    "PixelDP",
    "PixelDPResult",
    "interval_bounds",
    "margin_lower_bounds",
    "verified",
    "verified_accuracy",
]

__getattr__, __dir__ = lazy_exports(__name__, _WHERE)

"""Figures without global state: `matplotlib.figure.Figure` objects, saved atomically.

`pyplot` keeps a process-wide figure registry and backend; library code never touches either.
A `Figure` built directly renders with the Agg canvas, whatever backend the user's session has.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from core.files import atomic_write

__all__ = ["new_figure", "save_figure"]


def new_figure(width: float = 6.4, height: float = 4.8, **options: Any) -> Any:
    """A `matplotlib.figure.Figure` of `width` x `height` inches, not registered with pyplot."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), **options)


def save_figure(figure: Any, path: str | os.PathLike[str], **options: Any) -> Path:
    """Write `figure` to `path` atomically (format from the suffix, default dpi 150)."""
    target = Path(path)
    options.setdefault("dpi", 150)
    options.setdefault("bbox_inches", "tight")
    fmt = target.suffix.lstrip(".") or "png"
    return atomic_write(target, lambda tmp: figure.savefig(tmp, format=fmt, **options))

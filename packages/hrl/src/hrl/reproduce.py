"""``reproduce hrl``: the package's sub-experiments (``reproduce hrl --only hiro``).

Each entry maps a name to ``fn(options) -> tables``; the studies live in `hrl.experiments`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EXPERIMENTS"]


def _hiro(options: Any) -> list[Any]:
    from hrl.experiments.hiro import hiro

    return hiro(options)


EXPERIMENTS = {"hiro": _hiro}

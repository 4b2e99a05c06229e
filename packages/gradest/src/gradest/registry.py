"""A registry of named estimators and the one-call `estimate` (the shape of torchdiffeq's ``odeint``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from core.errors import InputError
from gradest.control_variates import ControlVariateConfig, Rebar, Relax
from gradest.estimators import (
    Estimate,
    Estimator,
    Exact,
    GumbelSoftmax,
    Objective,
    Reinforce,
    ReinforceLeaveOneOut,
)
from gradest.rao_blackwell import RaoBlackwellized

__all__ = ["ESTIMATORS", "estimate", "make_estimator"]


def _gumbel(straight_through: bool) -> Callable[..., Estimator]:
    def build(temperature: float = 0.5) -> Estimator:
        return GumbelSoftmax(temperature=temperature, straight_through=straight_through)

    return build


def _control_variate(cls: type) -> Callable[..., Estimator]:
    def build(**config: Any) -> Estimator:
        return cls(ControlVariateConfig(**config))

    return build


_BASES: dict[str, Callable[..., Estimator]] = {
    "reinforce": lambda: Reinforce("none"),
    "reinforce-ma": lambda decay=0.9: Reinforce("moving-average", decay=decay),
    "gumbel-soft": _gumbel(False),
    "gumbel-st": _gumbel(True),
    "rebar": _control_variate(Rebar),
    "relax": _control_variate(Relax),
}

ESTIMATORS: tuple[str, ...] = (
    "exact",
    "reinforce",
    "reinforce-ma",
    "reinforce-loo",
    "gumbel-soft",
    "gumbel-st",
    "rebar",
    "relax",
    *(f"rb-{name}" for name in _BASES),
)
"""Every name `make_estimator` and `estimate` accept."""


def make_estimator(name: str, **options: Any) -> Estimator:
    """A fresh estimator by name (see `ESTIMATORS`).

    Options: ``temperature`` (Gumbel), ``decay`` (moving-average baseline), the fields of
    `ControlVariateConfig` (REBAR/RELAX), and ``k`` (an int or ``"auto"``) for the ``rb-`` family.
    Stateful estimators (moving-average baseline, REBAR/RELAX) keep their state in the object: make one
    per training run.

    Raises:
        InputError: an unknown name or option.
    """
    if name not in ESTIMATORS:
        raise InputError("unknown estimator", item=name, expected=", ".join(ESTIMATORS))
    try:
        if name == "exact":
            _no_options(name, options)
            return Exact()
        if name == "reinforce-loo":
            _no_options(name, options)
            return ReinforceLeaveOneOut()
        if name.startswith("rb-"):
            k = options.pop("k", "auto")
            return RaoBlackwellized(_BASES[name[3:]](**options), k=k)
        return _BASES[name](**options)
    except TypeError as exc:
        raise InputError(f"bad option for estimator {name!r}", item=str(exc)) from exc


def _no_options(name: str, options: dict[str, Any]) -> None:
    if options:
        raise InputError(f"estimator {name!r} takes no options", item=sorted(options))


def estimate(
    logits: Tensor,
    objective: Objective,
    method: str | Estimator = "rb-reinforce",
    *,
    num_samples: int = 1,
    generator: torch.Generator | None = None,
    **options: Any,
) -> Estimate:
    """Estimate the gradient of ``sum_b E_{z ~ softmax(logits[b])}[f_b(z)]`` with a named estimator.

    Args:
        logits: ``(B, K)`` (or ``(K,)``) logits of independent categoricals.
        objective: ``z (S, B, K) -> (S, B)``; receives one-hot (or relaxed) samples.
        method: a name from `ESTIMATORS` or an estimator object (keep the object for stateful ones).
        num_samples: draws per row (the evaluation budget N; REBAR/RELAX spend 3 evaluations per draw).
        generator: torch generator for reproducible draws.
        **options: passed to `make_estimator` when `method` is a name.

    Returns:
        An `Estimate`: call ``.loss.backward()`` to get the gradient estimate.
    """
    estimator = make_estimator(method, **options) if isinstance(method, str) else method
    return estimator(logits, objective, num_samples=num_samples, generator=generator)

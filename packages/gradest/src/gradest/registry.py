"""A registry of named estimators and the one-call `estimate` (the shape of torchdiffeq's ``odeint``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
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


def _reinforce(decay: float = 0.9) -> Estimator:
    return Reinforce("moving-average", decay=decay)


def _gumbel_soft(temperature: float = 0.5) -> Estimator:
    return GumbelSoftmax(temperature=temperature, straight_through=False)


def _gumbel_st(temperature: float = 0.5) -> Estimator:
    return GumbelSoftmax(temperature=temperature, straight_through=True)


def _rebar(**config: Any) -> Estimator:
    return Rebar(ControlVariateConfig(**config))


def _relax(**config: Any) -> Estimator:
    return Relax(ControlVariateConfig(**config))


_CONTROL_VARIATE_OPTIONS = tuple(field.name for field in fields(ControlVariateConfig))

# name -> (builder, the options it accepts); the rb- family adds ``k``
_BASES: dict[str, tuple[Callable[..., Estimator], tuple[str, ...]]] = {
    "reinforce": (lambda: Reinforce("none"), ()),
    "reinforce-ma": (_reinforce, ("decay",)),
    "gumbel-soft": (_gumbel_soft, ("temperature",)),
    "gumbel-st": (_gumbel_st, ("temperature",)),
    "rebar": (_rebar, _CONTROL_VARIATE_OPTIONS),
    "relax": (_relax, _CONTROL_VARIATE_OPTIONS),
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
    ``k="auto"`` (the default) is the paper's choice and applies to ``rb-reinforce`` and
    ``rb-reinforce-ma`` only; the Gumbel, REBAR and RELAX compositions need an explicit k (see
    `gradest.rao_blackwell`).
    Stateful estimators (moving-average baseline, REBAR/RELAX) keep their state in the object: make one
    per training run.

    Raises:
        InputError: an unknown name or option (naming it and the options the estimator accepts), or
            ``k="auto"`` for a base that carries Gumbel noise.
    """
    if name not in ESTIMATORS:
        raise InputError("unknown estimator", item=name, expected=", ".join(ESTIMATORS))
    if name == "exact":
        _check_options(name, options, ())
        return Exact()
    if name == "reinforce-loo":
        _check_options(name, options, ())
        return ReinforceLeaveOneOut()
    options = dict(options)
    builder, accepted = _BASES[name.removeprefix("rb-")]
    if name.startswith("rb-"):
        _check_options(name, options, (*accepted, "k"))
        k = options.pop("k", "auto")
        return RaoBlackwellized(builder(**options), k=k)
    _check_options(name, options, accepted)
    return builder(**options)


def _check_options(name: str, options: dict[str, Any], accepted: tuple[str, ...]) -> None:
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise InputError(
            f"unknown option for estimator {name!r}",
            item=", ".join(unknown),
            expected=", ".join(accepted) if accepted else "no options",
        )


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

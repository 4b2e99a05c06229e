"""PixelDP (Lecuyer, Atlidakis, Geambasu, Hsu & Jana, IEEE S&P 2019, sec. 4): certified
robustness from differential privacy.

A noise layer makes the classifier's expected output an (eps, delta)-DP function of the input
against L2 changes of size ``L``: here the noise is added to the input itself (sensitivity 1 in
L2), with the Gaussian mechanism ``sigma = sqrt(2 ln(1.25 / delta)) * L / eps`` (eps <= 1) or, for
L1 changes, the Laplace mechanism of scale ``L / eps`` (delta = 0). `PixelDP.expected_scores`
estimates the expected one-hot prediction ``E[y_k(x + noise)]`` by Monte Carlo over `draws`
noise draws, with Hoeffding confidence intervals at level ``1 - eta`` over the classes (a
Bonferroni split). The robustness test (the paper's Proposition 1) certifies the top class ``k``
at radius ``L'`` when ``E_low[k] > e^(2 eps') E_up[j] + (1 + e^eps') delta`` for the runner-up ``j``,
where ``eps'`` is the privacy level the same noise gives against changes of size ``L'``
(Gaussian: ``eps' = sqrt(2 ln(1.25 / delta)) L' / sigma``, valid while ``eps' <= 1``; Laplace:
``eps' = L' / scale``). `certified_radius` is the largest such ``L'`` on a grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from core.errors import InputError
from robust.attacks.base import check_budget

__all__ = ["PixelDP", "PixelDPResult"]


@dataclass(frozen=True)
class PixelDPResult:
    """Per-input outcome of `PixelDP.certify`.

    Attributes:
        prediction: ``(n,)`` the class with the highest expected score.
        lower, upper: ``(n, classes)`` confidence bounds of the expected scores.
        radius: ``(n,)`` the certified radius (0 where nothing is certified).
    """

    prediction: Tensor
    lower: Tensor
    upper: Tensor
    radius: Tensor


class PixelDP(nn.Module):
    """A classifier behind a calibrated input noise layer.

    Args:
        model: the classifier after the noise layer (logits).
        construction_bound: ``L``, the change the noise is calibrated against (L2 or L1 radius).
        dp_eps, dp_delta: the privacy budget at ``L`` (Gaussian: eps in (0, 1], delta in (0, 1);
            Laplace: delta 0).
        mechanism: ``"gaussian"`` (L2) or ``"laplace"`` (L1).
        draws: Monte-Carlo noise draws per input; eta: the confidence intervals fail with probability eta.
        seed: the draws' generator seed (reset at each call).

    Forward: ``(n, c, h, w) -> (n, classes)`` log expected one-hot scores (not differentiable).
    """

    def __init__(
        self,
        model: nn.Module,
        construction_bound: float = 0.1,
        dp_eps: float = 1.0,
        dp_delta: float = 0.05,
        mechanism: str = "gaussian",
        draws: int = 300,
        eta: float = 0.05,
        *,
        seed: int = 0,
    ) -> None:
        super().__init__()
        check_budget("construction_bound", construction_bound, positive=True)
        check_budget("dp_eps", dp_eps, positive=True)
        check_budget("draws", draws, positive=True, integer=True)
        check_budget("eta", eta, positive=True)
        if mechanism not in ("gaussian", "laplace"):
            raise InputError("unknown mechanism", item=mechanism, expected="'gaussian' or 'laplace'")
        if mechanism == "gaussian" and not (dp_eps <= 1 and 0 < dp_delta < 1):
            raise InputError(
                "the Gaussian mechanism needs dp_eps <= 1 and 0 < dp_delta < 1",
                item=f"dp_eps={dp_eps}, dp_delta={dp_delta}",
            )
        if mechanism == "laplace" and dp_delta != 0:
            raise InputError(
                "the Laplace mechanism is pure DP: dp_delta must be 0", item=f"dp_delta={dp_delta}"
            )
        self.model, self.mechanism = model, mechanism
        self.construction_bound, self.dp_eps, self.dp_delta = (
            float(construction_bound),
            float(dp_eps),
            float(dp_delta),
        )
        self.draws, self.eta, self.seed = draws, float(eta), seed
        if mechanism == "gaussian":
            self.scale = math.sqrt(2 * math.log(1.25 / dp_delta)) * construction_bound / dp_eps
        else:
            self.scale = construction_bound / dp_eps

    def eps_at(self, radius: Tensor) -> Tensor:
        """The privacy level ``eps'`` this noise gives against changes of size `radius` (``inf`` where invalid)."""
        if self.mechanism == "gaussian":
            eps = math.sqrt(2 * math.log(1.25 / self.dp_delta)) * radius / self.scale
            valid = eps <= 1 + 1e-6  # the bound L itself is eps 1 up to float rounding
            return torch.where(valid, eps.clamp_max(1.0), torch.full_like(eps, float("inf")))
        return radius / self.scale

    def expected_scores(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(mean, lower, upper)`` ``(n, classes)``: Monte-Carlo expected one-hot scores and Hoeffding bounds."""
        generator = torch.Generator().manual_seed(self.seed)
        counts = None
        with torch.no_grad():
            for _ in range(self.draws):
                if self.mechanism == "gaussian":
                    noise = torch.randn(x.shape, generator=generator)
                else:
                    noise = torch.distributions.Laplace(0.0, 1.0).icdf(
                        torch.rand(x.shape, generator=generator).clamp(1e-7, 1 - 1e-7)
                    )
                logits = self.model(x + self.scale * noise.to(x.device, x.dtype))
                one_hot = nn.functional.one_hot(logits.argmax(1), logits.shape[1]).to(x.dtype)
                counts = one_hot if counts is None else counts + one_hot
        assert counts is not None
        mean = counts / self.draws
        half = math.sqrt(math.log(2 * mean.shape[1] / self.eta) / (2 * self.draws))
        return mean, (mean - half).clamp(0, 1), (mean + half).clamp(0, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.expected_scores(x)[0].clamp_min(1e-6).log()

    def certify(self, x: Tensor, radii: Tensor | None = None) -> PixelDPResult:
        """Predictions and certified radii of ``x (n, ...)``; `radii` is the ascending grid searched
        (default: 100 points up to the radius where the Gaussian eps' reaches 1, or 5 L for Laplace)."""
        mean, lower, upper = self.expected_scores(x)
        top2 = mean.topk(2, dim=1).indices
        k, j = top2[:, 0], top2[:, 1]
        low_k = lower.gather(1, k[:, None])[:, 0]
        up_j = upper.gather(1, j[:, None])[:, 0]
        if radii is None:
            if self.mechanism == "gaussian":
                top = self.scale / math.sqrt(2 * math.log(1.25 / self.dp_delta))
            else:
                top = 5 * self.construction_bound
            radii = torch.linspace(top / 100, top, 100)
        radii = radii.to(x.dtype).to(x.device)
        eps = self.eps_at(radii)[None, :]  # (1, r)
        ok = low_k[:, None] > torch.exp(2 * eps) * up_j[:, None] + (1 + torch.exp(eps)) * self.dp_delta
        # the condition is monotone in the radius: the certified radius is the last grid point that passes
        passed = ok.long().cumprod(1).sum(1)
        radius = torch.where(passed > 0, radii[(passed - 1).clamp_min(0)], torch.zeros_like(low_k))
        return PixelDPResult(k, lower, upper, radius)

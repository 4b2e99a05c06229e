"""stAdv: spatially transformed adversarial examples (Xiao, Zhu, Li, He, Liu & Song, ICLR 2018).

Each image gets its own flow field ``f (2, h, w)`` (`robust.attacks.flow`); the adversarial image
is ``x`` resampled bilinearly along it. The flow minimises (the paper's eq. 2)::

    L_adv(x_f) + tau * L_flow(f),

with ``L_adv`` the C&W margin on the logits ``Z``: untargeted ``max(Z_y - max_{i != y} Z_i, -kappa)``,
targeted ``max(max_{i != t} Z_i - Z_t, -kappa)``, and ``L_flow`` the flow-smoothness loss
``sum_p sum_{q in N(p)} sqrt(||du||^2 + ||dv||^2 + eps)``. ``optimizer="adam"`` (default): Adam on
the per-example sum (Adam is per coordinate, so examples do not interact), from zero flow.
``optimizer="lbfgs"``: the paper's L-BFGS (torch's, strong-Wolfe line search) on the batch's summed
objective, `steps` objective evaluations (torch checks the limit between line searches, so a few more can
be made); the terms are separable, so its minimiser is each
example's, though the batch shares one line search and curvature history (run with small batches
for the per-image algorithm). Each example keeps the adversarial iterate with the smallest flow loss
(else the last one).

Defaults: the paper's tau = 0.05 and kappa = 0; 100 Adam steps of learning rate 0.01 pixel (ours).
Cost: one gradient call per step (Adam) or per objective evaluation (L-BFGS) per example.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from core.errors import InputError
from robust.attacks.base import Attack, check_budget
from robust.attacks.flow import flow_smoothness, resample

__all__ = ["StAdv", "margin_loss"]


def margin_loss(logits: Tensor, y: Tensor, *, targeted: bool, kappa: float = 0.0) -> Tensor:
    """C&W margin per example ``(n,)``, minimised by the attack (``<= 0`` once adversarial, kappa 0)."""
    chosen = logits.gather(1, y[:, None])[:, 0]
    others = logits.masked_fill(nn.functional.one_hot(y, logits.shape[1]).bool(), -float("inf")).amax(1)
    margin = others - chosen if targeted else chosen - others
    return margin.clamp_min(-kappa)


class StAdv(Attack):
    """stAdv flow-field attack.

    Args:
        tau: weight of the flow-smoothness loss (paper: 0.05).
        steps: Adam steps on the flow.
        lr: Adam learning rate (pixels of displacement; L-BFGS takes unit steps with its line search).
        kappa: confidence margin of the C&W loss (paper: 0).
        optimizer: ``"adam"`` or ``"lbfgs"`` (the paper's).
        targeted, seed: see `Attack`.

    Attributes:
        flow_: after a call, ``(n, 2, h, w)`` the flows applied (pixels).
        flow_loss_: ``(n,)`` their smoothness loss.
    """

    name = "stadv"
    min_image_dims = 4

    def __init__(
        self,
        model: nn.Module,
        tau: float = 0.05,
        steps: int = 100,
        lr: float = 0.01,
        kappa: float = 0.0,
        optimizer: str = "adam",
        *,
        targeted: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(model, targeted=targeted, seed=seed)
        if optimizer not in ("adam", "lbfgs"):
            raise InputError(
                "unknown optimizer", item=f"optimizer={optimizer!r}", expected="'adam' or 'lbfgs'"
            )
        self.optimizer = optimizer
        check_budget("tau", tau)
        check_budget("steps", steps, positive=True, integer=True)
        check_budget("lr", lr, positive=True)
        check_budget("kappa", kappa)
        self.tau, self.steps, self.lr, self.kappa = float(tau), steps, float(lr), float(kappa)
        self.flow_: Tensor | None = None
        self.flow_loss_: Tensor | None = None

    def perturb(self, x: Tensor, y: Tensor) -> Tensor:
        if x.ndim != 4:
            raise InputError("stAdv needs images (n, c, h, w)", item=f"shape {tuple(x.shape)}")
        n, _, h, w = x.shape
        flow = torch.zeros(n, 2, h, w, dtype=x.dtype, device=x.device, requires_grad=True)
        best_flow = torch.zeros_like(flow.detach())
        best_loss = torch.full((n,), float("inf"), dtype=x.dtype, device=x.device)
        found = torch.zeros(n, dtype=torch.bool, device=x.device)

        def evaluate() -> Tensor:
            logits = self.logits(resample(x, flow))
            smooth = flow_smoothness(flow)
            objective = margin_loss(logits, y, targeted=self.targeted, kappa=self.kappa) + self.tau * smooth
            optimiser.zero_grad(set_to_none=True)
            total = objective.sum()
            total.backward()
            self._charge(1, None)
            with torch.no_grad():
                predicted = logits.argmax(1)
                hit = predicted == y if self.targeted else predicted != y
                better = hit & (smooth < best_loss)
                best_flow[better] = flow.detach()[better]
                best_loss[better] = smooth.detach()[better]
                found.logical_or_(hit)
            return total.detach()

        if self.optimizer == "lbfgs":
            optimiser = torch.optim.LBFGS(
                [flow], lr=1.0, max_iter=self.steps, max_eval=self.steps, line_search_fn="strong_wolfe"
            )
            optimiser.step(evaluate)
        else:
            optimiser = torch.optim.Adam([flow], lr=self.lr)
            for _ in range(self.steps):
                evaluate()
                optimiser.step()
        with torch.no_grad():
            last = flow.detach()
            best_flow[~found] = last[~found]
            best_loss[~found] = flow_smoothness(last)[~found]
            self.flow_, self.flow_loss_ = best_flow, best_loss
            return resample(x, best_flow).clamp(0.0, 1.0)

    def budget(self) -> dict[str, object]:
        return {
            "tau": self.tau,
            "steps": self.steps,
            "lr": self.lr,
            "kappa": self.kappa,
            "optimizer": self.optimizer,
        }

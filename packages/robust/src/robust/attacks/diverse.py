"""DI-FGSM: iterative FGSM on randomly resized and padded inputs (Xie et al., CVPR 2019).

At each step, with probability `diversity_prob` (the paper's p = 0.5), the gradient is taken at
``T(x)``: ``x`` resized (nearest, as the paper's code) to a random side ``r`` in
``[floor(resize_rate * W), W)`` and zero-padded at a random offset back to ``W x W``, so the
model's input size never changes (torchattacks' convention for ``resize_rate < 1``). With
``decay > 0`` it is M-DI2-FGSM (momentum, `MIFGSM`). The transform is drawn once per batch and
step from the attack's generator.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from robust.attacks.base import check_budget
from robust.attacks.momentum import MIFGSM

__all__ = ["DIFGSM", "diverse_input"]


def diverse_input(x: Tensor, side: int, top: int, left: int) -> Tensor:
    """``x (n, c, W, W)`` resized to ``side x side`` and zero-padded at ``(top, left)`` to ``W x W``."""
    width = x.shape[-1]
    small = nn.functional.interpolate(x, size=(side, side), mode="nearest")
    bottom, right = width - side - top, width - side - left
    return nn.functional.pad(small, (left, right, top, bottom), value=0.0)


class DIFGSM(MIFGSM):
    """DI2-FGSM (``decay=0``, the default) or M-DI2-FGSM (``decay=1``). Cost: `steps` gradient calls.

    Args:
        resize_rate: smallest resized side as a fraction of the image side, in (0, 1].
        diversity_prob: probability of transforming the input at a step, in [0, 1].
    """

    name = "difgsm"
    min_image_dims = 4

    def __init__(
        self,
        model: nn.Module,
        eps: float = 8 / 255,
        alpha: float = 2 / 255,
        steps: int = 10,
        decay: float = 0.0,
        resize_rate: float = 0.9,
        diversity_prob: float = 0.5,
        *,
        targeted: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(model, eps, alpha, steps, decay, targeted=targeted, seed=seed)
        check_budget("resize_rate", resize_rate, positive=True)
        check_budget("diversity_prob", diversity_prob)
        if resize_rate > 1 or diversity_prob > 1:
            from core.errors import InputError

            raise InputError(
                "resize_rate must lie in (0, 1] and diversity_prob in [0, 1]",
                item=f"resize_rate={resize_rate}, diversity_prob={diversity_prob}",
            )
        self.resize_rate, self.diversity_prob = float(resize_rate), float(diversity_prob)

    def input_transform(self, x: Tensor) -> Tensor:
        width = x.shape[-1]
        smallest = int(self.resize_rate * width)
        if float(torch.rand(1, generator=self.generator)) >= self.diversity_prob or smallest >= width:
            return x
        side = self.randint(smallest, width)
        top, left = self.randint(0, width - side + 1), self.randint(0, width - side + 1)
        return diverse_input(x, side, top, left)

    def budget(self) -> dict[str, object]:
        return {**super().budget(), "resize_rate": self.resize_rate, "diversity_prob": self.diversity_prob}

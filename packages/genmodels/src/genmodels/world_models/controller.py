"""C: the linear controller of World Models, ``a = W [z, h] + b`` squashed to CarRacing's action box.

With z of 32 and h of 256 units: (32 + 256) x 3 + 3 = 867 parameters (the paper's count); the z-only
ablation has 32 x 3 + 3 = 99. The parameters travel as one flat float64 vector (what CMA-ES
searches over). Squashing as in the reference code: steer = tanh, gas = (tanh + 1) / 2,
brake = clip(tanh, 0, 1).
"""

from __future__ import annotations

import numpy as np

from core.errors import InputError

__all__ = ["LinearController", "controller_size"]


def controller_size(input_dim: int, action_dim: int = 3) -> int:
    """Number of parameters of a linear controller: ``input_dim * action_dim + action_dim``."""
    return input_dim * action_dim + action_dim


class LinearController:
    """``act(features (input_dim,)) -> action (3,)``; `params` flat ``(input_dim * 3 + 3,)``.

    Raises:
        InputError: `params` of the wrong length or not finite.
    """

    def __init__(self, params: np.ndarray, input_dim: int, action_dim: int = 3) -> None:
        params = np.asarray(params, dtype=np.float64)
        expected = controller_size(input_dim, action_dim)
        if params.shape != (expected,) or not np.isfinite(params).all():
            raise InputError(
                "controller parameters do not fit",
                item=f"shape {params.shape}",
                expected=f"({expected},) finite",
            )
        self.weight = params[: input_dim * action_dim].reshape(action_dim, input_dim)
        self.bias = params[input_dim * action_dim :]
        self.input_dim = input_dim

    def act(self, features: np.ndarray) -> np.ndarray:
        raw = np.tanh(self.weight @ np.asarray(features, dtype=np.float64) + self.bias)
        return np.array([raw[0], (raw[1] + 1.0) / 2.0, np.clip(raw[2], 0.0, 1.0)], np.float32)

"""Shared fixtures for the robust tests: the bundled 8x8 digits and a small MLP trained on them."""

from __future__ import annotations

import pytest
import torch
from torch import nn


@pytest.fixture(scope="session")
def digits():
    from robust.data import load_dataset

    return load_dataset("digits")


@pytest.fixture(scope="session")
def digits_mlp(digits):
    """An MLP (64-64 hidden) trained for 15 epochs on the digits: about 0.95 test accuracy."""
    from robust.config import ModelConfig, TrainConfig
    from robust.train import fit

    config = TrainConfig(
        model=ModelConfig("mlp", image_size=8, widths=(64, 64)), data="digits", epochs=15, batch_size=32
    )
    model, _ = fit(digits, config)
    return model


DKNN_CALIBRATION = 160


@pytest.fixture(scope="session")
def dknn(digits_mlp, digits):
    """A DkNN (k = 10) on `digits_mlp`, calibrated on the first DKNN_CALIBRATION test images."""
    from robust.defenses.dknn import DkNN

    return DkNN(
        digits_mlp,
        digits.x_train,
        digits.y_train,
        digits.x_test[:DKNN_CALIBRATION],
        digits.y_test[:DKNN_CALIBRATION],
        k=10,
        reject_below=0.1,
    )


def linear_model(weight: torch.Tensor, bias: torch.Tensor) -> nn.Module:
    """``x (n, 1, h, w) -> x.flatten(1) @ weight.T + bias`` with the given ``weight (k, h*w)``."""
    layer = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
    return nn.Sequential(nn.Flatten(), layer)


class Crash(RuntimeError):
    """Raised by `crash_at` to kill a training run after an epoch's checkpoint."""


def crash_at(epoch: int):
    """A training callback that raises `Crash` once `epoch` is done (its checkpoint written)."""

    def callback(done, model):
        if done == epoch:
            raise Crash

    return callback

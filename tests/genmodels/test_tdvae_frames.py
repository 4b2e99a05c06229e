"""The convolutional TD-VAE for frames and the moving-MNIST experiment's baselines."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.errors import InputError
from genmodels.config import TDVAEConfig, TDVAERunConfig, TrainConfig
from genmodels.experiments.tdvae_mnist import baselines
from genmodels.tdvae import TDVAE, FrameEncoder, fit_tdvae, predict


def test_the_frame_encoder_is_equivariant_to_even_circular_shifts_along_the_width():
    torch.manual_seed(0)
    encoder = FrameEncoder((6, 10), 4, 8)
    x = torch.rand(3, 1, 6, 10)

    def features(frames):  # the two convolutions, before the dense layer
        h = torch.relu(encoder.first(frames))
        h = torch.nn.functional.pad(torch.nn.functional.pad(h, (1, 2, 0, 0), mode="circular"), (0, 0, 1, 2))
        return torch.relu(encoder.down(h))

    shifted = features(torch.roll(x, 2, dims=3))
    assert torch.allclose(shifted, torch.roll(features(x), 1, dims=3), atol=1e-6)
    assert encoder(x.flatten(1)).shape == (3, 8)


def test_frame_tdvae_shapes_and_bad_frames():
    model = TDVAE(TDVAEConfig(obs_dim=24, frame=(4, 6), hidden=8, belief_dim=8, latent_dim=3, channels=2))
    x = torch.rand(2, 5, 24)
    assert model.beliefs(x).shape == (2, 5, 8)
    assert predict(model, x, [2, 1], samples=3).shape == (2, 24)
    with pytest.raises(InputError, match="frame"):
        TDVAEConfig(obs_dim=25, frame=(5, 5))
    with pytest.raises(InputError, match="frame"):
        TDVAEConfig(obs_dim=24, frame=(4, 7))


def test_a_frame_tdvae_fits_a_moving_bar_its_reconstruction_term_improves_on_a_short_run():
    """A bar moving one pixel per step on a 4 x 8 ring; 6 epochs lift log p_D(x_t2 | z2) by over 10 %."""
    rng = np.random.default_rng(0)
    n, length = 64, 6
    start, direction = rng.integers(0, 8, n), rng.choice([-1, 1], n)
    frames = np.zeros((n, length, 4, 8), np.float32)
    for i in range(n):
        for t in range(length):
            frames[i, t, :, (start[i] + direction[i] * t) % 8] = 1.0
    config = TDVAERunConfig(
        TDVAEConfig(
            obs_dim=32,
            frame=(4, 8),
            hidden=16,
            belief_dim=16,
            latent_dim=4,
            channels=2,
            likelihood="bernoulli",
        ),
        TrainConfig(epochs=6, batch_size=16, learning_rate=3e-3),
    )
    _, history = fit_tdvae(torch.from_numpy(frames.reshape(n, length, 32)), config)
    first, last = history[0]["reconstruction"], history[-1]["reconstruction"]
    assert all(np.isfinite(row["loss"]) for row in history)
    assert last > first + 0.1 * abs(first), (first, last)


def test_the_baselines_are_the_mean_frame_and_the_last_frame():
    train = np.arange(24, dtype=float).reshape(2, 3, 4)
    context = np.ones((1, 2, 4))
    future = np.zeros((1, 2, 4))
    result = baselines(train, context, future)
    assert np.allclose(result["mean training frame"], np.mean(np.mean(train.reshape(-1, 4), 0) ** 2))
    assert np.allclose(result["copy the last frame"], [1.0, 1.0])


def test_cli_trains_a_frame_tdvae_and_refuses_a_frame_that_does_not_fit(tmp_path, capsys):
    from genmodels.cli import main

    np.save(tmp_path / "frames.npy", np.random.default_rng(0).random((4, 5, 24)).astype(np.float32))
    argv = ["fit-tdvae", "--data", str(tmp_path / "frames.npy"), "--belief-dim", "4", "--latent-dim", "2"]
    argv += ["--hidden", "4", "--channels", "2", "--epochs", "1", "--batch-size", "4"]
    assert main([*argv, "--frame", "4", "6", "--out", str(tmp_path / "run")]) == 0
    assert (tmp_path / "run" / "tdvae.safetensors").is_file()
    capsys.readouterr()
    assert main([*argv, "--frame", "4", "7", "--out", str(tmp_path / "bad")]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "frame (4, 7)" in error

"""M's trainer: learns the next latent of a predictable sequence, and a killed run resumes bit for bit."""

from __future__ import annotations

import pytest
import torch

from core.errors import CheckpointMismatchError, InputError
from genmodels.config import MDNRNNConfig, MemoryRunConfig, TrainConfig
from genmodels.world_models.memory import Sequences, fit_memory


def _sequences(n=16, length=12, latent=3):
    """z_{t+1} = 0.9 z_t + a_t (first dims) with small noise: predictable from (z_t, a_t)."""
    generator = torch.Generator().manual_seed(0)
    actions = torch.rand(n, length, 3, generator=generator) * 2 - 1
    z = [torch.randn(n, latent, generator=generator)]
    for t in range(length):
        z.append(0.9 * z[-1] + actions[:, t, :latent] + 0.05 * torch.randn(n, latent, generator=generator))
    mean = torch.stack(z, 1)
    rewards = actions[..., 0]
    done = torch.zeros(n, length)
    return Sequences(mean, torch.full_like(mean, -8.0), actions, rewards, done)


def _config(epochs):
    return MemoryRunConfig(
        model=MDNRNNConfig(latent_dim=3, hidden=16, gaussians=2),
        train=TrainConfig(epochs=epochs, batch_size=4, learning_rate=1e-2),
        sequence_length=12,
    )


class _Crash(Exception):
    pass


def test_memory_learns_a_predictable_sequence():
    _, history = fit_memory(_sequences(), _config(25))
    assert history[-1]["nll_per_dim"] < history[0]["nll_per_dim"] - 0.5
    assert history[-1]["reward_mse"] < 0.5 * history[0]["reward_mse"]


def test_a_killed_memory_run_resumes_exactly(tmp_path):
    data, path = _sequences(), tmp_path / "memory.safetensors"
    reference, reference_history = fit_memory(data, _config(4))

    def crash(epoch, row):
        if epoch == 3:
            raise _Crash

    with pytest.raises(_Crash):
        fit_memory(data, _config(4), checkpoint=path, on_epoch=crash)
    resumed, history = fit_memory(data, _config(4), checkpoint=path)
    assert history == reference_history
    for a, b in zip(reference.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)
    changed = MemoryRunConfig(
        model=MDNRNNConfig(latent_dim=3, hidden=16, gaussians=3), train=_config(4).train, sequence_length=12
    )
    with pytest.raises(CheckpointMismatchError, match="gaussians"):
        fit_memory(data, changed, checkpoint=path)


def test_sequences_of_another_latent_size_are_refused():
    with pytest.raises(InputError, match="latent 3"):
        fit_memory(_sequences(), MemoryRunConfig(model=MDNRNNConfig(latent_dim=4, hidden=8)))

"""World Models parts against independent references: PIL's resize, scipy's mixture density, a quadratic."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from scipy.stats import norm

from core.errors import CheckpointMismatchError, InputError
from genmodels.config import CMAConfig, MDNRNNConfig
from genmodels.world_models.cmaes import evolve
from genmodels.world_models.controller import LinearController, controller_size
from genmodels.world_models.env import preprocess
from genmodels.world_models.memory import MDNRNN, mdn_nll, sample_mdn


def test_preprocessing_matches_a_direct_area_resize():
    """96 -> 64 is a factor 1.5: doubling every pixel (192 x 192) and averaging 3 x 3 blocks is the exact area resize."""
    frame = np.random.default_rng(0).integers(0, 256, (96, 96, 3), dtype=np.uint8)
    doubled = frame.repeat(2, axis=0).repeat(2, axis=1).astype(np.float64)
    direct = doubled.reshape(64, 3, 64, 3, 3).mean(axis=(1, 3)) / 255.0
    ours = preprocess(frame)
    assert ours.shape == (3, 64, 64) and ours.dtype == np.float32
    assert np.abs(np.moveaxis(ours, 0, -1) - direct).max() < 1e-6
    torch_area = (
        torch.nn.functional.interpolate(
            torch.as_tensor(doubled).permute(2, 0, 1)[None], size=(64, 64), mode="area"
        )[0].numpy()
        / 255.0
    )
    assert np.abs(ours - torch_area).max() < 1e-6
    batch = np.stack([frame, frame[::-1]])
    assert np.allclose(preprocess(batch)[1], preprocess(frame[::-1]))


def test_preprocessing_refuses_frames_that_are_not_uint8_rgb():
    with pytest.raises(InputError, match="uint8"):
        preprocess(np.zeros((96, 96, 3), np.float32))
    with pytest.raises(InputError, match=r"shape \(96, 96, 4\)"):
        preprocess(np.zeros((96, 96, 4), np.uint8))


def test_mdn_nll_matches_scipys_mixture_density():
    config = MDNRNNConfig(latent_dim=4, action_dim=3, hidden=8, gaussians=5)
    model = MDNRNN(config).double()
    generator = torch.Generator().manual_seed(0)
    z = torch.randn(2, 3, 4, generator=generator, dtype=torch.float64)
    actions = torch.rand(2, 3, 3, generator=generator, dtype=torch.float64)
    output, _, _ = model(z, actions)
    target = torch.randn(2, 3, 4, generator=generator, dtype=torch.float64)
    ours = mdn_nll(output, target).detach().numpy()
    weights = torch.softmax(output.logits, -1).detach().numpy()
    means, stds = output.means.detach().numpy(), output.log_stds.exp().detach().numpy()
    density = (weights * norm.pdf(target.numpy()[..., None], means, stds)).sum(-1)
    assert np.allclose(ours, -np.log(density).sum(-1), rtol=1e-10)


def test_low_temperature_samples_concentrate_on_the_likeliest_component():
    config = MDNRNNConfig(latent_dim=1, action_dim=1, hidden=2, gaussians=2)
    from genmodels.world_models.memory import MDNOutput

    output = MDNOutput(
        logits=torch.tensor([[[2.0, 0.0]]]).expand(4000, 1, 2),
        means=torch.tensor([[[-3.0, 3.0]]]).expand(4000, 1, 2),
        log_stds=torch.full((4000, 1, 2), -2.0),
        reward=torch.zeros(4000),
        done_logit=torch.zeros(4000),
    )
    share = {}
    for tau in (0.1, 1.0):
        draws = sample_mdn(output, tau, torch.Generator().manual_seed(0))
        share[tau] = float((draws < 0).float().mean())
    assert share[0.1] > 0.999 and abs(share[1.0] - torch.sigmoid(torch.tensor(2.0)).item()) < 0.03
    assert config.gaussians == 2


def test_mdnrnn_refuses_mismatched_inputs():
    model = MDNRNN(MDNRNNConfig(latent_dim=4, hidden=8))
    with pytest.raises(InputError, match="actions"):
        model(torch.zeros(2, 5, 4), torch.zeros(2, 4, 3))


def test_the_paper_controller_has_867_parameters():
    assert controller_size(32 + 256) == 867 and controller_size(32) == 99
    controller = LinearController(np.zeros(867), 288)
    action = controller.act(np.ones(288))
    assert action.tolist() == [0.0, 0.5, 0.0]
    with pytest.raises(InputError, match=r"\(867,\)"):
        LinearController(np.zeros(866), 288)


def _negative_quadratic(params: np.ndarray, seeds: list[int], optimum: np.ndarray) -> float:
    return -float(np.sum((params - optimum) ** 2))


def test_cma_es_finds_a_quadratics_optimum_through_the_wrapper(tmp_path):
    optimum = np.array([0.5, -1.0, 2.0, 0.0, 1.5])
    fitness = functools.partial(_negative_quadratic, optimum=optimum)
    config = CMAConfig(population=8, rollouts=1, generations=40, sigma0=0.5)
    result = evolve(fitness, 5, config)
    assert np.abs(result.best_params - optimum).max() < 0.05
    assert result.history[-1]["best_so_far"] > -5e-3 > result.history[0]["best_so_far"]
    # resumable: a run cut at 30 generations and extended to 40 equals the uninterrupted one
    path = tmp_path / "cma.safetensors"
    evolve(fitness, 5, CMAConfig(population=8, rollouts=1, generations=30, sigma0=0.5), checkpoint=path)
    resumed = evolve(fitness, 5, config, checkpoint=path)
    assert np.array_equal(resumed.best_params, result.best_params) and resumed.history == result.history
    with pytest.raises(CheckpointMismatchError, match="sigma0"):
        evolve(fitness, 5, CMAConfig(population=8, rollouts=1, generations=40, sigma0=0.3), checkpoint=path)


def test_cma_es_with_two_joblib_workers_matches_one():
    import sys

    import cloudpickle

    module = sys.modules[__name__]  # the test module is not importable by name in a worker process
    cloudpickle.register_pickle_by_value(module)
    optimum = np.array([1.0, -2.0])
    fitness = functools.partial(_negative_quadratic, optimum=optimum)
    one = evolve(fitness, 2, CMAConfig(population=6, rollouts=1, generations=5, workers=1))
    try:
        two = evolve(fitness, 2, CMAConfig(population=6, rollouts=1, generations=5, workers=2))
    finally:
        cloudpickle.unregister_pickle_by_value(module)
    assert one.history == two.history

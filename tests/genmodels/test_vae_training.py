"""Training of the VAE family: learning beats a trivial baseline, a killed run resumes bit for bit."""

from __future__ import annotations

import math

import pytest
import torch

from core.errors import CheckpointMismatchError, InputError
from genmodels.data import load_digits
from genmodels.train import TrainConfig
from genmodels.vae import VAEConfig
from genmodels.vae.objectives import ObjectiveConfig
from genmodels.vae.training import VAERunConfig, evaluate_vae, fit_vae


@pytest.fixture(scope="module")
def digits():
    return load_digits().split(0.2, seed=0)


def _config(epochs=3, **objective):
    return VAERunConfig(
        model=VAEConfig(image_shape=(1, 8, 8), latent_dim=4, hidden=(32,), likelihood="gaussian", sigma=0.1),
        objective=ObjectiveConfig(**objective),
        train=TrainConfig(epochs=epochs, batch_size=64, learning_rate=3e-3),
    )


class _Crash(Exception):
    pass


def test_a_short_run_reconstructs_held_out_digits_better_than_the_mean_image(digits):
    train, test = digits
    run = fit_vae(train, _config(epochs=8), test=test)
    images = test.tensor()
    mean_image_rmse = math.sqrt(float((images - train.tensor().mean(0)).pow(2).mean()))
    assert run.history[-1]["test_rmse"] < 0.8 * mean_image_rmse
    assert run.history[-1]["test_elbo"] > run.history[0]["test_elbo"]


@pytest.mark.parametrize("kind", ["elbo", "geco"])
def test_a_killed_run_resumes_from_its_checkpoint_exactly(tmp_path, digits, kind):
    train, _ = digits
    config = _config(epochs=3, kind=kind, tolerance=0.15)
    reference = fit_vae(train, config)
    path = tmp_path / "vae.safetensors"

    def crash(epoch, row):
        if epoch == 2:
            raise _Crash

    with pytest.raises(_Crash):
        fit_vae(train, config, checkpoint=path, on_epoch=crash)
    resumed = fit_vae(train, config, checkpoint=path)
    for (name, a), b in zip(reference.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
    assert resumed.history == reference.history
    if kind == "geco":
        assert resumed.objective.geco.multiplier == reference.objective.geco.multiplier
    longer = fit_vae(train, _config(epochs=4, kind=kind, tolerance=0.15), checkpoint=path)
    assert [row["epoch"] for row in longer.history] == [1, 2, 3, 4]
    assert longer.history[:3] == reference.history
    changed = VAERunConfig(
        config.model, config.objective, TrainConfig(epochs=4, batch_size=64, learning_rate=1e-2)
    )
    with pytest.raises(CheckpointMismatchError, match="learning_rate"):
        fit_vae(train, changed, checkpoint=path)


def test_images_of_another_shape_are_refused_by_name(digits):
    train, _ = digits
    config = VAERunConfig(model=VAEConfig(image_shape=(1, 28, 28)))
    with pytest.raises(InputError, match=r"\(1, 8, 8\)"):
        fit_vae(train, config)


def test_conv_vae_refuses_a_side_not_divisible_by_its_downsampling():
    with pytest.raises(InputError, match="divisible by 8"):
        VAEConfig(architecture="conv", image_shape=(1, 28, 28), channels=(8, 8, 8))


def test_conv_and_mlp_vaes_produce_images_of_the_data_shape():
    from genmodels.vae import build_vae

    for config in (
        VAEConfig(architecture="conv", image_shape=(3, 16, 16), channels=(4, 8)),
        VAEConfig(architecture="mlp", image_shape=(1, 8, 8), hidden=(8, 8)),
    ):
        model = build_vae(config)
        x = torch.rand(5, *config.image_shape)
        assert model.reconstruct(x).shape == x.shape
        assert model.sample(3, torch.Generator().manual_seed(0)).shape == (3, *config.image_shape)
        assert set(evaluate_vae(model, x)) == {"elbo", "kl", "rmse"}

"""MMD-GAN: the unbiased MMD^2 against the Gaussian closed form, the losses by hand, RBF-B, Frechet distance, resume."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core.errors import InputError
from genmodels.config import MMDGANConfig, MMDGANRunConfig, TrainConfig
from genmodels.mmd_gan import (
    discriminator_loss,
    fit_mmd_gan,
    frechet_distance,
    generator_loss,
    kernel_terms,
    mmd2_unbiased,
)


def _expected_kernel(mean_a, sd_a, mean_b, sd_b, sigma):
    """E exp(-(x - y)^2 / 2 sigma^2) for independent x ~ N(mean_a, sd_a^2), y ~ N(mean_b, sd_b^2)."""
    total = sigma**2 + sd_a**2 + sd_b**2
    return sigma / math.sqrt(total) * math.exp(-((mean_a - mean_b) ** 2) / (2 * total))


def test_unbiased_mmd2_has_the_closed_form_mean_for_gaussians():
    generator = torch.Generator().manual_seed(0)
    sigma, reps, n = 1.0, 400, 12
    x = torch.randn(reps, n, 1, generator=generator, dtype=torch.float64) * 0.5
    y = 1.0 + torch.randn(reps, n, 1, generator=generator, dtype=torch.float64) * 1.5
    estimates = torch.stack([mmd2_unbiased(x[r], y[r], sigma) for r in range(reps)])
    closed = (
        _expected_kernel(0, 0.5, 0, 0.5, sigma)
        + _expected_kernel(1, 1.5, 1, 1.5, sigma)
        - 2 * _expected_kernel(0, 0.5, 1, 1.5, sigma)
    )
    standard_error = float(estimates.std()) / math.sqrt(reps)
    assert abs(float(estimates.mean()) - closed) < 4 * standard_error
    # the biased (V-statistic) estimate, diagonal included, would sit well above: the diagonal adds 1/n per set
    assert standard_error < 0.5 * (2 / n) * (1 - closed)


def test_repulsive_standard_and_hinge_losses_by_hand():
    fx = torch.tensor([[0.0, 0.0], [0.3, 0.0], [2.0, 1.0]])
    fy = torch.tensor([[0.1, 0.1], [0.3, 0.2]])

    def k(a, b, clip=None):
        d2 = float(((a - b) ** 2).sum())
        if clip == "low":
            d2 = max(d2, 0.25)
        if clip == "high":
            d2 = min(d2, 4.0)
        return math.exp(-d2 / 2)

    kxx = np.mean([k(fx[i], fx[j]) for i in range(3) for j in range(3) if i != j])
    kyy = k(fy[0], fy[1])
    kxy = np.mean([k(a, b) for a in fx for b in fy])
    kxx_b = np.mean([k(fx[i], fx[j], "high") for i in range(3) for j in range(3) if i != j])  # real: d2 <= 4
    kyy_b = k(fy[0], fy[1], "low")  # generated: d2 >= 0.25
    rbf = MMDGANConfig(loss="repulsive", kernel="rbf")
    assert float(discriminator_loss(rbf, fx, fy)) == pytest.approx(kxx - kyy, rel=1e-5)
    assert float(discriminator_loss(MMDGANConfig(loss="repulsive"), fx, fy)) == pytest.approx(
        kxx_b - kyy_b, rel=1e-6
    )
    assert kxx_b != pytest.approx(kxx) and kyy_b != pytest.approx(kyy)  # both bounds bind here
    standard = MMDGANConfig(loss="mmd", kernel="rbf")
    assert float(discriminator_loss(standard, fx, fy)) == pytest.approx(-(kxx + kyy - 2 * kxy), rel=1e-5)
    for config in (rbf, standard, MMDGANConfig()):  # the generator's loss is the unbounded MMD^2 for all
        assert float(generator_loss(config, fx, fy)) == pytest.approx(kxx + kyy - 2 * kxy, rel=1e-5)
    dx, dy = torch.tensor([[0.5], [2.0]]), torch.tensor([[-2.0], [0.0]])
    hinge = MMDGANConfig(loss="hinge")
    assert float(discriminator_loss(hinge, dx, dy)) == pytest.approx((0.5 + 0) / 2 + (0 + 1) / 2)
    assert float(generator_loss(hinge, dx, dy)) == pytest.approx(1.0)


def test_frechet_distance_in_one_dimension_and_bad_input():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, (500, 1)), rng.normal(2, 3, (400, 1))
    expected = (a.mean() - b.mean()) ** 2 + (a.std(ddof=1) - b.std(ddof=1)) ** 2
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-8)
    c = rng.normal(size=(300, 4))
    assert frechet_distance(c, c) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(InputError, match="frechet_distance"):
        frechet_distance(c, c[:, :3])
    with pytest.raises(InputError, match="kernel terms"):
        kernel_terms(torch.zeros(1, 2), torch.zeros(3, 2), 1.0)


def test_mmd_gan_resumes_bit_for_bit_and_refuses_bad_shapes(tmp_path):
    images = torch.rand(64, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    config = MMDGANRunConfig(
        MMDGANConfig(image_shape=(1, 8, 8), noise_dim=4, width=4, features=4),
        TrainConfig(epochs=3, batch_size=16, learning_rate=2e-4),
    )
    _, full = fit_mmd_gan(images, config)

    class Crash(Exception):
        pass

    def crash(epoch, row):
        if epoch == 2:
            raise Crash

    with pytest.raises(Crash):
        fit_mmd_gan(images, config, checkpoint=tmp_path / "g.safetensors", on_epoch=crash)
    _, resumed = fit_mmd_gan(images, config, checkpoint=tmp_path / "g.safetensors")
    assert resumed == full
    with pytest.raises(InputError, match="MMD-GAN config"):
        fit_mmd_gan(torch.rand(8, 1, 16, 16), config)
    with pytest.raises(InputError, match="divisible by 4"):
        MMDGANConfig(image_shape=(1, 10, 10))


def test_fit_mmd_gan_command_writes_checkpoint_and_samples(tmp_path, capsys):
    from genmodels.cli import main

    argv = ["fit-mmd-gan", "--data", "digits", "--width", "2", "--noise-dim", "4", "--epochs", "1"]
    assert main([*argv, "--batch-size", "512", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "mmd_gan.safetensors").is_file() and (tmp_path / "samples.png").is_file()
    assert "repulsive loss, rbf-b" in capsys.readouterr().out

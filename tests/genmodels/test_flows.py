"""Flows: exact inverses, log-determinants against autograd's Jacobian, the Gaussian closed form, bits/dim, training."""

from __future__ import annotations

import math

import pytest
import torch

from core.errors import CheckpointMismatchError, InputError
from genmodels.config import FlowConfig, FlowRunConfig, TrainConfig
from genmodels.data import load_digits
from genmodels.flows import (
    ActNorm,
    AffineCoupling,
    InvConv1x1,
    Squeeze,
    bits_per_dim,
    build_flow,
    dequantize,
    fit_flow,
)


def _perturb(module: torch.nn.Module, seed: int) -> None:
    """Random non-zero weights everywhere (the zero-initialised coupling outputs included)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=generator, dtype=p.dtype))


def _jacobian_log_det(fn, x: torch.Tensor) -> torch.Tensor:
    """``log |det J|`` per image by brute force: the full Jacobian of one image's flattened map."""
    out = []
    for image in x:
        jac = torch.autograd.functional.jacobian(
            lambda v: fn(v.reshape(1, *x.shape[1:])).flatten(), image.flatten()
        )
        out.append(torch.linalg.slogdet(jac).logabsdet)
    return torch.stack(out)


@pytest.mark.parametrize(
    "layer",
    [ActNorm(4), InvConv1x1(4), AffineCoupling(4, 8), AffineCoupling(4, 8, additive=True), Squeeze()],
    ids=["actnorm", "invconv", "affine", "additive", "squeeze"],
)
def test_each_layer_inverts_exactly_and_its_log_det_is_the_jacobians(layer):
    torch.manual_seed(0)
    layer = layer.double()
    _perturb(layer, 1)
    x = torch.randn(3, 4, 4, 4, dtype=torch.float64)
    y, log_det = layer(x)
    assert torch.allclose(layer.inverse(y), x, atol=1e-5)
    assert torch.allclose(log_det, _jacobian_log_det(lambda v: layer(v)[0], x), atol=1e-6)


@pytest.mark.parametrize("coupling", ["affine", "additive"])
def test_the_multiscale_flow_inverts_and_its_volume_term_is_the_jacobian_log_det(coupling):
    torch.manual_seed(0)
    flow = build_flow(
        FlowConfig(image_shape=(1, 4, 4), levels=2, steps=2, hidden=8, coupling=coupling)
    ).double()
    _perturb(flow, 2)
    flow.eval()
    x = torch.rand(2, 1, 4, 4, dtype=torch.float64)
    terms = flow.log_prob(x)
    assert torch.allclose(flow.inverse(terms.latents), x, atol=1e-5)

    def latents(v):
        return torch.cat([z.flatten(1) for z in flow.log_prob(v).latents], 1)

    assert torch.allclose(terms.volume, _jacobian_log_det(latents, x), atol=1e-6)
    assert torch.allclose(terms.log_prob, terms.density + terms.volume)
    if coupling == "additive":  # constant volume: the same log-det for every input
        assert torch.allclose(terms.volume, terms.volume[0].expand(2))


def test_an_affine_flow_on_gaussian_data_recovers_the_closed_form_log_likelihood():
    # levels=1, steps=1: squeeze, then actnorm (initialised to the per-pixel mean/std: the Gaussian MLE),
    # a rotation (log-det 0) and an additive coupling, the identity at initialisation: the flow is N(mean, std^2).
    torch.manual_seed(0)
    mean = torch.tensor([0.2, 0.5, 0.4, 0.7])
    std = torch.tensor([0.05, 0.1, 0.02, 0.08])
    x = (mean + std * torch.randn(20000, 4)).reshape(-1, 1, 2, 2).double()
    flow = build_flow(
        FlowConfig(image_shape=(1, 2, 2), levels=1, steps=1, hidden=4, coupling="additive")
    ).double()
    flow.train()
    log_prob = flow.log_prob(x).log_prob
    flat = x.flatten(1)
    closed = torch.distributions.Normal(flat.mean(0), flat.std(0)).log_prob(flat).sum(1)
    assert torch.allclose(log_prob, closed, atol=1e-3)  # actnorm divides by std + 1e-6
    log_prob = log_prob.detach()
    entropy = float((0.5 * torch.log(2 * math.pi * math.e * std.double() ** 2)).sum())
    assert abs(float(log_prob.mean()) + entropy) < 0.03


def test_bits_per_dim_of_the_uniform_density_is_log2_of_the_levels_and_dequantisation_stays_in_its_bin():
    assert float(bits_per_dim(torch.zeros(1), 64, 17)) == pytest.approx(math.log2(17))
    x = torch.tensor([0.0, 0.5, 1.0])
    y = dequantize(x.expand(1000, 3), 17, torch.Generator().manual_seed(0))
    assert torch.all(torch.floor(y * 17) == torch.round(x * 16))


def _config(epochs):
    return FlowRunConfig(
        FlowConfig(image_shape=(1, 8, 8), levels=2, steps=2, hidden=16, grey_levels=17),
        TrainConfig(epochs=epochs, batch_size=64, learning_rate=1e-2),
    )


def test_a_short_run_beats_the_uniform_density_and_a_killed_run_resumes_bit_for_bit(tmp_path):
    train, test = load_digits().split(0.2, seed=0)
    full = fit_flow(train, _config(3), test=test)
    assert full.history[-1]["test_bpd"] < 0.9 * math.log2(
        17
    )  # uniform over 17 levels: 4.09 bits/dim (3.38 measured)

    class Crash(Exception):
        pass

    def crash(epoch, row):
        if epoch == 2:
            raise Crash

    with pytest.raises(Crash):
        fit_flow(train, _config(3), test=test, checkpoint=tmp_path / "f.safetensors", on_epoch=crash)
    resumed = fit_flow(train, _config(3), test=test, checkpoint=tmp_path / "f.safetensors")
    assert resumed.history == full.history
    bigger = FlowRunConfig(FlowConfig(image_shape=(1, 8, 8), levels=2, steps=2, hidden=32, grey_levels=17))
    with pytest.raises(CheckpointMismatchError):
        fit_flow(train, bigger, checkpoint=tmp_path / "f.safetensors")


def test_bad_shapes_raise_clear_errors():
    with pytest.raises(InputError, match="divisible by 8"):
        FlowConfig(image_shape=(1, 12, 12), levels=3)
    flow = build_flow(FlowConfig(image_shape=(1, 8, 8), levels=2, steps=1, hidden=4))
    with pytest.raises(InputError, match="shape"):
        flow.log_prob(torch.rand(2, 1, 16, 16))
    with pytest.raises(InputError, match="ActNorm takes"):
        ActNorm(3)(torch.rand(2, 4, 2, 2))
    with pytest.raises(InputError, match="even"):
        Squeeze()(torch.rand(1, 1, 3, 3))

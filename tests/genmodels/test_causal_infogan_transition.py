"""The learned transition kept from collapsing: T's entropy in the bound, an sd floor, a KL to the prior (torch.distributions)."""

from __future__ import annotations

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from core.errors import InputError
from genmodels.causal_infogan import CausalInfoGAN, generator_loss
from genmodels.config import CausalInfoGANConfig


def _model(**config) -> CausalInfoGAN:
    torch.manual_seed(0)
    return CausalInfoGAN(CausalInfoGANConfig(obs_dim=64, hidden=16, **config))


def _randomise(model: CausalInfoGAN) -> None:
    with torch.no_grad():
        for parameter in model.transition.parameters():
            parameter.normal_(0.0, 1.0)


def test_the_penalty_is_t_entropy_and_kl_as_torch_distributions_computes_them():
    codes = torch.rand(64, 2) * 2 - 1
    model = _model(transition_entropy=True, transition_kl=0.5, info_weight=2.0)
    _randomise(model)
    mean, sd = model.transition_moments(codes)
    entropy = Normal(mean, sd).entropy().sum(1).mean()  # sum log sd + 0.5 log(2 pi e) per coordinate
    constant = 2 * 0.5 * torch.log(torch.tensor(2 * torch.pi * torch.e))
    kl = kl_divergence(Normal(mean, sd), Normal(codes, torch.full_like(codes, 0.1))).sum(1).mean()
    expected = -2.0 * (entropy - constant) + 0.5 * kl
    assert float(model.transition_penalty(codes)) == pytest.approx(float(expected), rel=1e-5)
    assert float(kl) > 0.1  # the check is not against a zero KL
    fresh = _model(transition_kl=1.0)  # T starts as the prior: no KL
    assert float(fresh.transition_penalty(codes)) == pytest.approx(0.0, abs=1e-6)
    assert float(_model().transition_penalty(codes)) == 0.0  # the paper's loss is unchanged
    assert float(_model(transition="fixed", transition_entropy=True).transition_penalty(codes)) == 0.0


def test_the_entropy_term_pushes_t_sd_up_and_enters_the_generator_loss():
    model = _model(transition_entropy=True)
    z, codes = model.sample_codes(32, torch.Generator().manual_seed(0))
    fake = model.generate(z, codes)
    with_entropy, info = generator_loss(model, fake, codes)
    plain, plain_info = generator_loss(_model(), fake, codes)  # same weights (seed 0), no entropy
    assert float(info) == pytest.approx(float(plain_info))
    assert float(with_entropy - plain) == pytest.approx(-2 * float(torch.log(torch.tensor(0.1))), rel=1e-5)
    model.zero_grad()
    model.transition_penalty(codes[:, 0]).backward()
    log_scale_bias = model.transition[-1].bias.grad[2:]
    assert (log_scale_bias < 0).all()  # a gradient step raises the sd


def test_the_sd_floor_holds_for_any_weights_and_bad_values_are_refused():
    codes = torch.rand(200, 2) * 2 - 1
    for transition in ("learned", "local"):
        model = _model(transition=transition, transition_min_sd=0.05)
        with torch.no_grad():
            model.transition[-1].bias[2:] = -10.0  # a collapsed T without the floor
        _, sd = model.transition_moments(codes)
        assert sd.min() >= 0.05 - 1e-7 and sd.min() <= 0.05 + 1e-6
        _, sd = _model(transition=transition).transition_moments(codes)
        assert float(sd.min()) == pytest.approx(0.1)
    with pytest.raises(InputError, match="transition_min_sd"):
        CausalInfoGANConfig(transition_min_sd=0.1)
    with pytest.raises(InputError, match="transition_kl"):
        CausalInfoGANConfig(transition_kl=-1.0)

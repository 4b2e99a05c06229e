"""GRAD's gradient reversal and fairness gaps, the fairness CSV loader, and adversarial reprogramming."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.errors import InputError
from robust.analyses import grad as gr
from robust.analyses import reprogramming as rp
from robust.analyses.small import mlp


def test_gradient_reversal_flips_the_sign_of_the_gradient_reaching_the_encoder():
    torch.manual_seed(0)
    encoder, head = nn.Linear(5, 4), nn.Linear(4, 1)
    x = torch.randn(8, 5)
    grads = {}
    for name, layer in (("plain", nn.Identity()), ("reversed", gr.GradientReversal(2.5))):
        encoder.zero_grad()
        out = head(layer(encoder(x)))
        assert torch.equal(out, head(encoder(x)))  # identity forward
        out.sum().backward()
        grads[name] = encoder.weight.grad.clone()
    torch.testing.assert_close(grads["reversed"], -2.5 * grads["plain"])
    with pytest.raises(InputError, match="strength"):
        gr.GradientReversal(-1.0)


def test_fairness_gaps_on_a_hand_counted_case():
    y = torch.tensor([1, 1, 0, 0, 1, 1, 0, 0])
    a = torch.tensor([1, 1, 1, 1, 0, 0, 0, 0])
    p = torch.tensor([1, 1, 1, 0, 1, 0, 0, 0])
    gaps = gr.fairness_gaps(p, y, a)
    assert gaps["accuracy"] == pytest.approx(6 / 8)
    assert gaps["dp_gap"] == pytest.approx(3 / 4 - 1 / 4)  # P(p=1|a=1) - P(p=1|a=0)
    assert gaps["eo_gap"] == pytest.approx(max(1 - 0.5, 0.5 - 0))  # TPR gap, FPR gap


def test_fairness_csv_loader_reads_adult_and_refuses_in_one_line(tmp_path):
    path = tmp_path / "adult.csv"
    path.write_text("age, workclass, sex, income\n39, State-gov, Male, <=50K\n50, Private, Female, >50K\n")
    data = gr.load_fairness_csv(path, "adult")
    assert data.y.tolist() == [0, 1] and data.a.tolist() == [0, 1] and data.x.shape == (2, 3)
    with pytest.raises(InputError, match="no such file"):
        gr.load_fairness_csv(tmp_path / "missing.csv", "adult")
    with pytest.raises(InputError, match="two_year_recid"):
        gr.load_fairness_csv(path, "compas")
    with pytest.raises(InputError, match="unknown"):
        gr.load_fairness_csv(path, "german")


def test_count_squares_draws_the_labelled_number_of_squares():
    x, y = rp.count_squares(50, classes=4, seed=3)
    assert x.shape == (50, 1, 14, 14)
    torch.testing.assert_close(x.sum((1, 2, 3)) / 4, (y + 1).float())


def test_reprogramming_leaves_the_frozen_model_unchanged_and_trains_the_frame():
    model = mlp(784, (16,), 10, seed=0).train()
    model[1].weight.requires_grad_(False)  # a mixed state, to be restored exactly
    before = {k: v.clone() for k, v in model.state_dict().items()}
    flags = {k: p.requires_grad for k, p in model.named_parameters()}
    x, y = rp.count_squares(64, seed=0)
    program = rp.fit_program(model, x, y, image=28, classes=4, steps=5, seed=0)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert {k: p.requires_grad for k, p in model.named_parameters()} == flags
    assert model.training and all(p.grad is None for p in model.parameters())
    assert program.weight.abs().sum() > 0  # the frame moved
    inputs = program.program_input(x[:2])
    assert inputs.min() >= 0 and inputs.max() <= 1
    torch.testing.assert_close(
        inputs[:, :, 7:21, 7:21], x[:2]
    )  # the target image sits unframed at the centre

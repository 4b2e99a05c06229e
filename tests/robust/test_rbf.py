"""RBF output layer and deep RBF networks: the layers against their formulas by hand, the losses, the
pseudo-gradient, a tiny learning test with noise rejection at the configured FPR, and bad input."""

from __future__ import annotations

import math

import pytest
import torch

from core.errors import InputError
from robust.defenses.rbf import (
    DeepRBF,
    PseudoGradient,
    RBFConfig,
    RBFOutput,
    RBFUnits,
    RejectionAwarePGD,
    fit_rbf,
    max_margin_loss,
    noise_loss,
)


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_rbf_output_equals_its_formula(p):
    torch.manual_seed(0)
    layer = RBFOutput(5, 3, rank=4, p=p)
    h = torch.randn(6, 5)
    d = layer(h).detach()
    for n in range(6):
        for k in range(3):
            by_hand = sum(
                abs(
                    sum(float(layer.A[k, f, r].detach()) * float(h[n, f]) for f in range(5))
                    + float(layer.b[k, r].detach())
                )
                ** p
                for r in range(4)
            )
            assert math.isclose(float(d[n, k]), by_hand, rel_tol=1e-5)


def test_max_margin_and_noise_losses_by_hand():
    d = torch.tensor([[1.0, 4.0, 12.0], [7.0, 0.5, 9.0]])
    y = torch.tensor([0, 1])
    # example 0: d_0 + max(0, 10 - 4) + max(0, 10 - 12) = 1 + 6 + 0; example 1: 0.5 + 3 + 1
    assert math.isclose(float(max_margin_loss(d, y, 10.0)), (7.0 + 4.5) / 2)
    assert math.isclose(float(noise_loss(d, 10.0)), ((9 + 6 + 0) + (3 + 9.5 + 1)) / 2)


def test_and_or_units_and_the_pseudo_gradient():
    unit = RBFUnits(3, 2, "and")
    with torch.no_grad():
        unit.u.copy_(torch.tensor([[1.0, 2.0, 0.5], [0.3, 0.3, 3.0]]))
        unit.w.copy_(torch.tensor([[0.2, 0.5, 0.9], [0.0, 1.0, 0.4]]))
    x = torch.tensor([[0.6, 0.1, 0.0]], requires_grad=True)
    z = [
        max((u * (xi - w)) ** 2 for u, w, xi in zip(ur, wr, [0.6, 0.1, 0.0], strict=True))
        for ur, wr in zip(unit.u.tolist(), unit.w.tolist(), strict=True)
    ]
    out = unit(x)
    assert torch.allclose(out, torch.tensor([[math.exp(-z[0]), math.exp(-z[1])]]))
    unit.kind = "or"
    assert torch.allclose(unit(x), 1 - out)
    unit.kind = "and"
    # unit 0's max is input 1 ((2 * (0.1 - 0.5))^2 = 0.64): d out / d x_1 = -exp(-z) * 2 u^2 (x - w)
    (grad,) = torch.autograd.grad(unit(x)[0, 0], x)
    assert math.isclose(float(grad[0, 1]), -math.exp(-z[0]) * 2 * 4 * (0.1 - 0.5), rel_tol=1e-5)
    unit.pseudo_gradient = True
    (pseudo,) = torch.autograd.grad(unit(x)[0, 0], x)
    # pseudo: d exp(-z) -> -1 / sqrt(1 + z); the max's gradient spread by softmax(v / (0.1 max v)) over its terms
    terms = [
        (u * (xi - w)) ** 2
        for u, w, xi in zip(unit.u[0].tolist(), unit.w[0].tolist(), [0.6, 0.1, 0.0], strict=True)
    ]
    weights = [math.exp(t / (0.1 * max(terms) + 1e-6)) for t in terms]
    weights = [w / sum(weights) for w in weights]
    for i, (u, w, xi) in enumerate(zip(unit.u[0].tolist(), unit.w[0].tolist(), [0.6, 0.1, 0.0], strict=True)):
        expected = -1 / math.sqrt(1 + z[0]) * weights[i] * 2 * u**2 * (xi - w)
        assert math.isclose(float(pseudo[0, i]), expected, rel_tol=1e-4, abs_tol=1e-9)
    assert weights[1] > 0.9  # the argmax term still dominates


def test_deep_rbf_alternates_and_or_ending_in_or():
    net = DeepRBF(64, (16, 16, 16), 10)
    assert [layer.kind for layer in net.layers] == ["and", "or", "and", "or"]
    x = torch.rand(4, 1, 8, 8)
    assert torch.equal(PseudoGradient(net)(x), net(x))  # same forward


def test_rbf_network_learns_and_rejects_noise_at_the_configured_fpr(digits):
    config = RBFConfig(
        kind="rbf",
        architecture="mlp",
        widths=(32,),
        rank=8,
        image_shape=(1, 8),
        data="digits",
        epochs=3,
        batch_size=32,
        learning_rate=3e-3,
    )
    net, history = fit_rbf(digits, config)
    assert history[-1]["test_accuracy"] > 0.8  # chance is 0.1
    net.calibrate(digits.x_test[:180], 0.1)
    rate = float(net.reject(digits.x_test[180:]).float().mean())
    assert abs(rate - 0.1) < 3 * math.sqrt(0.09 / 180), rate
    noise = torch.rand(100, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    assert float(net.reject(noise).float().mean()) > 0.9  # trained noise is rejected
    x, y = digits.x_test[180:260], digits.y_test[180:260]
    attack = RejectionAwarePGD(net, eps=0.3, alpha=0.05, steps=10)
    x_adv = attack(x, y)
    fooled = (net(x_adv).argmax(1) != y) & ~net.reject(x_adv)
    assert float(fooled.float().mean()) > 0.3  # the adaptive attack gets past the rejection


def test_bad_input_raises_clear_errors(digits):
    with pytest.raises(InputError, match="kind"):
        RBFConfig(kind="rbf-net")
    with pytest.raises(InputError, match="margin"):
        RBFConfig(margin=0.0)
    with pytest.raises(InputError, match="widths"):
        RBFConfig(kind="deep-rbf", widths=(0, 4))
    with pytest.raises(InputError, match="does not fit"):
        fit_rbf(digits, RBFConfig(data="mnist5000"))
    with pytest.raises(InputError, match="RBFOutput expects"):
        RBFOutput(4, 3)(torch.zeros(2, 5))
    with pytest.raises(InputError, match="RBF unit kind"):
        RBFUnits(3, 2, "xor")
    with pytest.raises(InputError, match="rejection_score"):
        RejectionAwarePGD(torch.nn.Linear(2, 2), eps=0.1)
    with pytest.raises(InputError, match="kappa"):
        RejectionAwarePGD(DeepRBF(4, (3,), 2), eps=0.1, kappa=0.0)


def test_fit_rbf_resumed_from_its_checkpoint_equals_one_run(digits, tmp_path):
    def config(epochs: int) -> RBFConfig:
        return RBFConfig(
            kind="rbf",
            architecture="mlp",
            widths=(16,),
            rank=4,
            image_shape=(1, 8),
            data="digits",
            epochs=epochs,
            batch_size=64,
            learning_rate=3e-3,
        )

    straight, _ = fit_rbf(digits, config(2))
    fit_rbf(digits, config(1), tmp_path / "rbf.safetensors")
    resumed, history = fit_rbf(digits, config(2), tmp_path / "rbf.safetensors")
    assert [row["epoch"] for row in history] == [1, 2]
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b)

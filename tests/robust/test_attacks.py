"""The gradient attacks: budgets respected, closed forms on linear models, identities, model untouched."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.errors import InputError
from robust.attacks import ATTACKS, BIM, DIFGSM, FGSM, MIFGSM, PGD, PGDL2, make_attack
from robust.attacks.diverse import diverse_input
from robust.attacks.norms import l2_norm, linf_norm
from robust.evaluate import attack_in_batches

from .conftest import linear_model


def _test_batch(digits, n=64):
    return digits.x_test[:n], digits.y_test[:n]


@pytest.mark.parametrize("seed", [0, 1])
def test_linf_pgd_never_leaves_the_eps_ball_or_the_unit_box(digits_mlp, digits, seed):
    x, y = _test_batch(digits)
    eps = 0.1
    x_adv = PGD(digits_mlp, eps=eps, alpha=0.05, steps=5, seed=seed)(x, y)
    assert float(linf_norm(x_adv - x).max()) <= eps + 1e-6
    assert float(x_adv.min()) >= 0.0 and float(x_adv.max()) <= 1.0
    assert float(linf_norm(x_adv - x).max()) > 0.9 * eps  # it does use the budget


def test_l2_pgd_respects_its_norm(digits_mlp, digits):
    x, y = _test_batch(digits)
    eps = 0.75
    x_adv = PGDL2(digits_mlp, eps=eps, alpha=0.3, steps=6)(x, y)
    assert float(l2_norm(x_adv - x).max()) <= eps + 1e-5
    assert float(x_adv.min()) >= 0.0 and float(x_adv.max()) <= 1.0
    assert float(l2_norm(x_adv - x).mean()) > 0.5 * eps


def _mixed_model() -> nn.Module:
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Flatten(),
        nn.Linear(256, 10),
    )
    model.train()
    model[1].eval()  # a frozen batch norm inside a training net
    model[0].weight.requires_grad_(False)  # a frozen layer
    return model


@pytest.mark.parametrize("name", list(ATTACKS))
def test_an_attack_leaves_parameters_modes_and_requires_grad_unchanged(name, digits):
    model = _mixed_model()
    before = {key: value.clone() for key, value in model.state_dict().items()}
    modes = [module.training for module in model.modules()]
    flags = [parameter.requires_grad for parameter in model.parameters()]
    x, y = _test_batch(digits, 8)
    small = {"nes": {"max_queries": 300}, "boundary": {"max_queries": 300}, "stadv": {"steps": 5}}
    make_attack(name, model, **small.get(name, {}))(x, y)
    after = model.state_dict()
    assert all(torch.equal(before[key], after[key]) for key in before)  # BN running stats included
    assert [module.training for module in model.modules()] == modes
    assert [parameter.requires_grad for parameter in model.parameters()] == flags
    assert all(parameter.grad is None for parameter in model.parameters())


def _two_class_linear(seed=0):
    generator = torch.Generator().manual_seed(seed)
    weight = torch.randn(2, 16, generator=generator)
    bias = torch.tensor([0.4, -0.4])
    x = 0.4 + 0.2 * torch.rand(6, 1, 4, 4, generator=generator)  # interior: the box never binds
    return linear_model(weight, bias), weight, bias, x


def test_targeted_fgsm_reaches_the_target_at_the_closed_form_linf_distance():
    model, weight, _, x = _two_class_linear()
    logits = model(x).detach()
    source = logits.argmax(1)
    target = 1 - source
    direction = weight[target] - weight[source]  # (n, 16)
    margin = logits.gather(1, source[:, None])[:, 0] - logits.gather(1, target[:, None])[:, 0]
    distance = margin / direction.abs().sum(1)  # smallest L-inf change that reaches the target
    for i in range(len(x)):
        hit = FGSM(model, eps=float(1.01 * distance[i]), targeted=True)(x[i : i + 1], target[i : i + 1])
        miss = FGSM(model, eps=float(0.99 * distance[i]), targeted=True)(x[i : i + 1], target[i : i + 1])
        assert int(model(hit).argmax(1)) == int(target[i])
        assert int(model(miss).argmax(1)) == int(source[i])


def test_targeted_l2_pgd_reaches_the_target_only_beyond_the_closed_form_l2_distance():
    model, weight, _, x = _two_class_linear(1)
    logits = model(x).detach()
    source = logits.argmax(1)
    target = 1 - source
    direction = weight[target] - weight[source]
    margin = logits.gather(1, source[:, None])[:, 0] - logits.gather(1, target[:, None])[:, 0]
    distance = margin / direction.norm(dim=1)
    for i in range(len(x)):
        d = float(distance[i])
        hit = PGDL2(model, eps=1.05 * d, alpha=0.5 * d, steps=20, random_start=False, targeted=True)
        miss = PGDL2(model, eps=0.95 * d, alpha=0.5 * d, steps=20, targeted=True)
        assert int(model(hit(x[i : i + 1], target[i : i + 1])).argmax(1)) == int(target[i])
        assert int(model(miss(x[i : i + 1], target[i : i + 1])).argmax(1)) == int(source[i])


def test_pgd_is_at_least_as_strong_as_fgsm_and_drives_accuracy_to_near_zero(digits_mlp, digits):
    x, y = digits.x_test[:200], digits.y_test[:200]

    def accuracy(images):
        return float((digits_mlp(images).argmax(1) == y).float().mean())

    assert accuracy(x) > 0.9
    for eps in (0.1, 0.15):
        fgsm, pgd = FGSM(digits_mlp, eps=eps)(x, y), PGD(digits_mlp, eps=eps, alpha=eps / 4, steps=10)(x, y)
        assert accuracy(pgd) <= accuracy(fgsm) + 0.01
        assert accuracy(pgd) < 0.6 * accuracy(x)
    assert accuracy(PGD(digits_mlp, eps=0.2, alpha=0.05, steps=10)(x, y)) < 0.03


def test_momentum_zero_is_bim_and_diversity_zero_is_momentum(digits_mlp, digits):
    x, y = _test_batch(digits, 32)
    bim = BIM(digits_mlp, eps=0.1, alpha=0.02, steps=5)(x, y)
    assert torch.equal(MIFGSM(digits_mlp, eps=0.1, alpha=0.02, steps=5, decay=0.0)(x, y), bim)
    x4 = x  # digits are (n, 1, 8, 8)
    mi = MIFGSM(digits_mlp, eps=0.1, alpha=0.02, steps=5, decay=1.0)(x4, y)
    di = DIFGSM(digits_mlp, eps=0.1, alpha=0.02, steps=5, decay=1.0, diversity_prob=0.0)(x4, y)
    assert torch.equal(mi, di)


def test_diverse_input_keeps_the_size_and_places_the_resized_image():
    x = torch.rand(2, 1, 10, 10)
    assert torch.equal(diverse_input(x, 10, 0, 0), x)
    out = diverse_input(x, 8, 1, 2)
    assert out.shape == x.shape
    assert torch.equal(out[..., :1, :], torch.zeros(2, 1, 1, 10))  # top padding
    assert torch.equal(out[..., 1:9, 2:10], nn.functional.interpolate(x, size=(8, 8), mode="nearest"))


def test_restarts_never_lose_an_example_the_first_restart_fooled(digits_mlp, digits):
    x, y = _test_batch(digits, 64)
    one = PGD(digits_mlp, eps=0.06, alpha=0.02, steps=3, seed=5)
    three = PGD(digits_mlp, eps=0.06, alpha=0.02, steps=3, restarts=3, seed=5)
    fooled_one = digits_mlp(one(x, y)).argmax(1) != y
    fooled_three = digits_mlp(three(x, y)).argmax(1) != y
    assert bool((fooled_three | ~fooled_one).all())
    assert int(fooled_three.sum()) >= int(fooled_one.sum())
    assert three.cost_.tolist() == [9] * len(x)


def test_every_attack_reports_its_gradient_calls(digits_mlp, digits):
    x, y = _test_batch(digits, 10)
    expected = {"fgsm": 1, "bim": 10, "pgd": 10, "pgd-l2": 10, "mifgsm": 10, "difgsm": 10}
    for name, calls in expected.items():
        attack = make_attack(name, digits_mlp)
        _, cost = attack_in_batches(attack, x, y, batch_size=4)
        assert cost.tolist() == [calls] * len(x), name
        assert attack.cost_unit == "gradients"


def test_registry_refuses_unknown_names_and_parameters(digits_mlp):
    with pytest.raises(InputError, match="unknown attack; offending item: cw"):
        make_attack("cw", digits_mlp)
    with pytest.raises(InputError, match="takes no parameter 'epsilon'"):
        make_attack("pgd", digits_mlp, epsilon=0.3)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda m: PGD(m, eps=-0.1), "eps must be >= 0"),
        (lambda m: PGD(m, alpha=0.0), "alpha must be > 0"),
        (lambda m: PGD(m, steps=0), "steps must be > 0"),
        (lambda m: PGD(m, steps=2.5), "steps must be an integer"),
        (lambda m: PGD(m, norm="l1"), "unknown norm"),
        (lambda m: FGSM(m, eps=float("nan")), "eps must be a number"),
        (lambda m: DIFGSM(m, diversity_prob=1.5), "diversity_prob"),
    ],
)
def test_bad_budgets_are_refused_by_name(digits_mlp, build, message):
    with pytest.raises(InputError, match=message):
        build(digits_mlp)


def test_bad_images_labels_and_models_raise_one_clear_error(digits_mlp, digits):
    x, y = _test_batch(digits, 4)
    attack = FGSM(digits_mlp, eps=0.1)
    with pytest.raises(InputError, match=r"images must lie in \[0, 1\].*range \[0, 255"):
        attack(x * 255, y)
    with pytest.raises(InputError, match="floating point"):
        attack((x * 255).to(torch.uint8), y)
    with pytest.raises(InputError, match="NaN"):
        attack(torch.full_like(x, float("nan")), y)
    with pytest.raises(InputError, match=r"labels must have shape \(4,\)"):
        attack(x, y[:3])
    with pytest.raises(InputError, match="integer class indices"):
        attack(x, y.float())
    with pytest.raises(InputError, match="label 10 out of range for a model with 10 classes"):
        attack(x, torch.tensor([0, 1, 2, 10]))
    with pytest.raises(InputError, match="at least 4 dimensions"):
        DIFGSM(digits_mlp)(x.flatten(1), y)

    class TupleModel(nn.Module):
        def forward(self, images):
            return digits_mlp(images), images

    with pytest.raises(InputError, match="returned a tuple"):
        FGSM(TupleModel())(x, y)

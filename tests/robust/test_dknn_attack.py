"""The adaptive feature-space attack on DkNN: budget, guides by brute force, the feature loss falls, what it returns."""

from __future__ import annotations

import pytest
import torch

from core.errors import InputError
from robust.defenses.dknn_attack import DkNNFeatureAttack

CALIBRATION = 160  # the first test images calibrate the `dknn` fixture (conftest.DKNN_CALIBRATION)


def test_guides_are_the_nearest_training_images_of_the_nearest_other_class(dknn, digits):
    attack = DkNNFeatureAttack(dknn, digits.x_train, eps=0.1, alpha=0.02, steps=2, guides=5)
    x, y = digits.x_test[CALIBRATION : CALIBRATION + 8], digits.y_test[CALIBRATION : CALIBRATION + 8]
    target, chosen = attack.choose_guides(x, y)
    with torch.no_grad():
        query = attack.features(x)[attack.guide_layer]
        bank = attack.features(digits.x_train)[attack.guide_layer]
    distance = torch.cdist(query.double(), bank.double())
    for i in range(len(x)):
        means = []
        for c in range(10):
            members = (digits.y_train == c).nonzero().flatten()
            means.append(distance[i, members].topk(5, largest=False).values.mean())
        means[int(y[i])] = float("inf")
        assert int(target[i]) == int(torch.tensor(means).argmin()) != int(y[i])
        expected = (
            distance[i, (digits.y_train == target[i]).nonzero().flatten()].topk(5, largest=False).values
        )
        assert torch.allclose(distance[i, chosen[i]].sort().values, expected.sort().values)


def test_attack_stays_in_budget_pulls_features_to_the_guides_and_returns_only_dknn_fooling_changes(
    dknn, digits
):
    eps = 0.2
    x, y = digits.x_test[CALIBRATION:], digits.y_test[CALIBRATION:]
    attack = DkNNFeatureAttack(dknn, digits.x_train, eps=eps, alpha=eps / 8, steps=20, check_every=5)
    x_adv = attack(x, y)
    assert (
        float((x_adv - x).abs().max()) <= eps + 1e-6 and 0 <= float(x_adv.min()) and float(x_adv.max()) <= 1
    )
    assert bool((attack.cost_ == 20).all())
    changed = (x_adv != x).flatten(1).any(1)
    out = dknn.explain(x_adv)
    assert bool((out.prediction[changed] != y[changed]).all())  # each kept iterate fools DkNN
    assert float(changed.float().mean()) > 0.3  # DkNN is fooled on a good share of the digits
    # the deep representation moved towards the target class: its guides are nearer than before
    _, guides = attack.choose_guides(x, y)
    with torch.no_grad():
        bank = attack.features(digits.x_train)[attack.guide_layer][guides[changed]]
        before = (attack.features(x[changed])[attack.guide_layer][:, None] - bank).norm(dim=-1).mean()
        after = (attack.features(x_adv[changed])[attack.guide_layer][:, None] - bank).norm(dim=-1).mean()
    assert float(after) < 0.8 * float(before)


def test_bad_input_is_refused(dknn, digits):
    with pytest.raises(InputError, match="x_train must be the"):
        DkNNFeatureAttack(dknn, digits.x_train[:10])
    with pytest.raises(InputError, match="guide_layer must index"):
        DkNNFeatureAttack(dknn, digits.x_train, guide_layer=7)
    with pytest.raises(InputError, match="guides must be <="):
        DkNNFeatureAttack(dknn, digits.x_train, guides=10_000)
    with pytest.raises(InputError, match="alpha must be > 0"):
        DkNNFeatureAttack(dknn, digits.x_train, alpha=0)

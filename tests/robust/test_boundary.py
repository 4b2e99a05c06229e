"""The boundary attack: always adversarial, never farther than its start, queries counted, LF noise used."""

from __future__ import annotations

import pytest
import torch

from core.errors import InputError
from robust.attacks import BoundaryAttack
from robust.attacks.norms import l2_norm


@pytest.mark.parametrize("frequency", ["full", "low"])
def test_boundary_attack_walks_towards_the_image_and_stays_adversarial(digits_mlp, digits, frequency):
    x, y = digits.x_test[:10], digits.y_test[:10]
    attack = BoundaryAttack(digits_mlp, max_queries=400, frequency=frequency, ratio=0.5, seed=0)
    x_adv = attack(x, y)
    found = torch.isfinite(attack.trace_[0][1])
    assert bool(found.all())  # uniform noise is misclassified by a digits MLP
    assert bool((digits_mlp(x_adv).argmax(1) != y).all())
    assert float(x_adv.min()) >= 0 and float(x_adv.max()) <= 1
    distances = torch.stack([d for _, d in attack.trace_])
    assert bool((distances[1:] <= distances[:-1] + 1e-6).all())  # accepted steps only shrink the distance
    assert float(distances[-1].median()) < 0.7 * float(distances[0].median())
    assert torch.equal(l2_norm(x_adv - x), distances[-1])
    assert int(attack.cost_.max()) <= 400 and attack.cost_.tolist() == attack.trace_[-1][0].tolist()


def test_boundary_attack_refuses_bad_budgets(digits_mlp):
    with pytest.raises(InputError, match="step_adaptation must be > 1"):
        BoundaryAttack(digits_mlp, step_adaptation=1.0)
    with pytest.raises(InputError, match="max_queries must be > 0"):
        BoundaryAttack(digits_mlp, max_queries=0)
    with pytest.raises(InputError, match="frequency"):
        BoundaryAttack(digits_mlp, frequency="mid")

"""`evaluate`: the clean/adversarial table is consistent with the attacks it runs."""

from __future__ import annotations

import pytest
import torch

from core.errors import InputError
from robust.attacks import FGSM
from robust.evaluate import evaluate


def test_evaluation_table_agrees_with_a_direct_count(digits_mlp, digits):
    table = evaluate(
        digits_mlp,
        digits,
        ["fgsm", ("pgd", {"eps": 0.1, "alpha": 0.03, "steps": 3})],
        limit=100,
        batch_size=32,
    )
    assert [row["attack"] for row in table.rows] == ["fgsm", "pgd"]
    x, y = digits.x_test[:100], digits.y_test[:100]
    direct = float((digits_mlp(FGSM(digits_mlp)(x, y)).argmax(1) == y).float().mean())
    fgsm = table.rows[0]
    assert fgsm["robust_accuracy"] == pytest.approx(direct)
    clean = fgsm["clean_accuracy"]
    assert fgsm["robust_accuracy"] <= clean
    assert fgsm["success_rate"] == pytest.approx((clean - fgsm["robust_accuracy"]) / clean, abs=1e-6)
    assert table.rows[1]["cost"] == 3 and table.rows[1]["cost_unit"] == "gradients"
    assert fgsm["linf"] <= 8 / 255 + 1e-6
    assert "digits" in table.data


def test_evaluate_refuses_empty_or_malformed_attack_lists(digits_mlp, digits):
    with pytest.raises(InputError, match="at least one attack"):
        evaluate(digits_mlp, digits, [])
    with pytest.raises(InputError, match="registry name or"):
        evaluate(digits_mlp, digits, [("pgd", 0.3)])
    with pytest.raises(InputError, match="images must lie in"):
        evaluate(digits_mlp, (digits.x_test[:4] * 2, digits.y_test[:4]), ["fgsm"])
    assert torch.is_tensor(digits.x_test)

"""Metz et al.'s learned unsupervised update rule: identities, a hand computation, symmetry, the readout
against scikit-learn, config errors and bit-for-bit resume."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from core.errors import InputError
from genmodels.meta.config import UpdateRuleConfig
from genmodels.meta.update_rule import (
    UpdateRule,
    base_net,
    meta_train,
    ridge_readout,
    rule_step,
    standardise,
    unsupervised_train,
)


def _batch(n=16, d=12, seed=0):
    return standardise(torch.randn(n, d, generator=torch.Generator().manual_seed(seed)))


def test_rule_with_zeroed_parameters_leaves_weights_unchanged():
    rule = UpdateRule(hidden=8, channels=3)
    with torch.no_grad():
        for p in rule.parameters():
            p.zero_()
    params = base_net(12, (10, 7), torch.Generator().manual_seed(1))
    after = rule_step(rule, params, _batch())
    for (w, b), (w2, b2) in zip(params, after):
        assert torch.equal(w, w2) and torch.equal(b, b2)
    images = torch.rand(40, 1, 4, 3)
    trained = unsupervised_train(rule, images, (10, 7), steps=5, seed=1)
    assert all(
        torch.equal(w, w2)
        for (w, _), (w2, _) in zip(base_net(12, (10, 7), torch.Generator().manual_seed(1)), trained)
    )


def test_update_by_hand_with_constant_rule_outputs():
    # Zero weights and constant output biases: q = (c_1..c_k, a, beta), p = (p_1..p_k) for every neuron, so
    # dW = sum_k c_k p_k + a W, db = beta; then each row of W + lr dW is rescaled to W's row norm.
    k, lr = 2, 0.1
    rule = UpdateRule(hidden=4, channels=k)
    with torch.no_grad():
        for p in rule.parameters():
            p.zero_()
        rule.post[2].bias.copy_(torch.tensor([0.5, -1.0, 0.3, 2.0]))
        rule.pre[2].bias.copy_(torch.tensor([2.0, 0.25]))
        rule.log_lr.fill_(np.log(lr))
    params = base_net(5, (3,), torch.Generator().manual_seed(0))
    ((w, b),) = params
    ((w2, b2),) = rule_step(rule, params, _batch(d=5))
    moved = w.double() + lr * (0.5 * 2.0 - 1.0 * 0.25 + 0.3 * w.double())
    expected = moved * (w.double().norm(dim=1, keepdim=True) / moved.norm(dim=1, keepdim=True))
    assert torch.allclose(w2.double(), expected, rtol=1e-5, atol=1e-6)
    assert torch.allclose(b2, b + lr * 2.0)


def test_rule_is_neuron_local_permuting_hidden_units_permutes_the_update():
    torch.manual_seed(0)
    rule = UpdateRule(hidden=8, channels=3)
    with torch.no_grad():
        for p in rule.parameters():
            p.normal_(0, 0.5)
    (w1, b1), (w2, b2) = base_net(6, (9, 4), torch.Generator().manual_seed(2))
    b1 = torch.randn(9) * 0.1
    perm = torch.randperm(9)
    x = _batch(d=6)
    out = rule_step(rule, [(w1, b1), (w2, b2)], x)
    permuted = rule_step(rule, [(w1[perm], b1[perm]), (w2[:, perm], b2)], x)
    assert torch.allclose(permuted[0][0], out[0][0][perm], rtol=1e-4, atol=1e-5)
    assert torch.allclose(permuted[0][1], out[0][1][perm], rtol=1e-4, atol=1e-5)
    assert torch.allclose(permuted[1][0], out[1][0][:, perm], rtol=1e-4, atol=1e-5)
    # one rule, any width and input size
    assert rule_step(rule, base_net(20, (3, 50)), _batch(d=20))[1][0].shape == (50, 3)


def test_ridge_readout_matches_sklearn():
    from sklearn.linear_model import Ridge

    g = torch.Generator().manual_seed(0)
    fs, fq = (
        torch.randn(15, 7, generator=g, dtype=torch.float64),
        torch.randn(9, 7, generator=g, dtype=torch.float64),
    )
    ys = torch.arange(3).repeat(5)
    ours = ridge_readout(fs, ys, fq, 3, ridge=0.3)

    def augment(f):
        f = f / f.norm(dim=1, keepdim=True)
        return np.hstack([f.numpy(), np.ones((len(f), 1))])

    reference = Ridge(alpha=0.3, fit_intercept=False).fit(augment(fs), np.eye(3)[ys]).predict(augment(fq))
    np.testing.assert_allclose(ours.numpy(), reference, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"truncation": 6, "inner_steps": 5}, "truncation"),
        ({"widths": ()}, "widths"),
        ({"depths": (1, 0)}, "depths"),
        ({"ways": 1}, "ways"),
        ({"ridge": 0.0}, "ridge"),
    ],
)
def test_bad_configs_name_the_field(fields, named):
    with pytest.raises(InputError, match=named):
        UpdateRuleConfig(**fields)


def test_meta_training_needs_enough_classes_and_images():
    images, labels = torch.rand(30, 1, 4, 4), np.repeat(np.arange(3), 10)
    with pytest.raises(InputError, match="5-way"):
        meta_train(images, labels, UpdateRuleConfig(meta_steps=1))


def test_meta_training_resumes_bit_for_bit(tmp_path):
    g = np.random.default_rng(0)
    images, labels = torch.from_numpy(g.random((60, 1, 4, 4), dtype=np.float32)), np.repeat(np.arange(5), 12)
    small = dict(
        hidden=4,
        channels=2,
        inner_steps=2,
        truncation=1,
        inner_batch=8,
        widths=(6,),
        depths=(1, 2),
        shots=2,
        queries=3,
        snapshot_every=2,
        checkpoint_every=1,
    )
    whole, history, snaps = meta_train(images, labels, UpdateRuleConfig(meta_steps=4, **small))
    meta_train(images, labels, UpdateRuleConfig(meta_steps=2, **small), checkpoint=tmp_path / "r.safetensors")
    resumed, history2, snaps2 = meta_train(
        images, labels, UpdateRuleConfig(meta_steps=4, **small), checkpoint=tmp_path / "r.safetensors"
    )
    assert [h["loss"] for h in history] == [h["loss"] for h in history2]
    assert sorted(snaps) == sorted(snaps2) == [0, 2, 4]
    for a, b in zip(whole.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)
    assert any(not torch.equal(a, b) for a, b in zip(snaps[0].values(), snaps[4].values()))
    assert isinstance(resumed, nn.Module)


def test_meta_training_improves_the_readout_over_the_rules_init():
    from genmodels.data import load_digits
    from genmodels.meta.fewshot import TaskSampler
    from genmodels.meta.update_rule import features, readout_accuracy

    digits = load_digits()
    keep = digits.labels < 5
    x, y = torch.from_numpy(digits.images[keep]), digits.labels[keep]
    config = UpdateRuleConfig(
        meta_steps=40,
        inner_steps=4,
        truncation=4,
        widths=(16,),
        depths=(1,),
        snapshot_every=40,
        learning_rate=1e-2,
    )
    rule, history, snapshots = meta_train(x, y, config)
    init = UpdateRule(config.hidden, config.channels)
    init.load_state_dict(snapshots[0])
    sampler = TaskSampler(y, 5, 5, 10)

    def accuracy(r):
        params = unsupervised_train(r, x, (16,), 4, seed=3)
        return readout_accuracy(lambda v: features(params, v), x, sampler, 100, seed=1)[0]

    before, after = accuracy(init), accuracy(rule)
    assert np.mean([h["loss"] for h in history[-10:]]) < np.mean([h["loss"] for h in history[:10]])
    assert after > before + 0.1, (before, after)  # measured: 0.66 -> 0.88


def test_cli_meta_trains_resumes_and_reports(tmp_path, capsys):
    from genmodels.cli import main

    args = [
        "update-rule",
        "--meta-steps",
        "2",
        "--inner-steps",
        "2",
        "--truncation",
        "1",
        "--widths",
        "8",
        "--depths",
        "1",
        "--eval-widths",
        "8",
        "--tasks",
        "3",
        "--snapshot-every",
        "1",
        "--out",
        str(tmp_path),
    ]
    assert main(args) == 0
    assert (tmp_path / "rule.safetensors").exists() and (tmp_path / "update_rule.json").exists()
    assert "random features" in capsys.readouterr().out
    assert main([*args[:2], "3", *args[3:]]) == 0  # extends the finished run by one step
    assert main(["update-rule", "--truncation", "5", "--inner-steps", "2", "--out", str(tmp_path / "x")]) == 2

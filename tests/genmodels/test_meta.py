"""CACTUs, ProtoNets, MAML and the few-shot tooling, each against an independent reference."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core.errors import InputError
from genmodels.meta.cactus import baseline_accuracy, few_shot_accuracy, fit_meta, kmeans_partitions
from genmodels.meta.config import CactusConfig, MetaConfig
from genmodels.meta.fewshot import (
    PartitionSampler,
    TaskSampler,
    class_split,
    confidence_interval,
    load_omniglot,
)
from genmodels.meta.maml import MAMLNet
from genmodels.meta.protonets import ProtoNet, prototypes


def _blobs(classes=8, per=30, dim=6, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, (classes, dim))
    labels = np.repeat(np.arange(classes), per)
    return (centres[labels] + rng.normal(0, 0.5, (len(labels), dim))).astype(np.float32), labels


def test_task_sampler_never_mixes_meta_train_and_meta_test_classes():
    labels = np.repeat(np.arange(10), 20)
    train_classes, test_classes = class_split(labels, 4, seed=3)
    assert set(train_classes).isdisjoint(test_classes) and len(test_classes) == 4
    index = np.flatnonzero(np.isin(labels, test_classes))
    sampler = TaskSampler(labels[index], 3, 2, 4, indices=index)
    rng = np.random.default_rng(0)
    for _ in range(50):
        task = sampler.sample(rng)
        picked = np.concatenate([task.support, task.query])
        assert set(labels[picked]) <= set(test_classes)
        assert len(set(picked)) == len(picked) == 3 * 6  # no image twice
        for k in range(3):  # each task label is one true class
            assert (
                len(
                    set(labels[task.support[task.support_labels == k]])
                    | set(labels[task.query[task.query_labels == k]])
                )
                == 1
            )


def test_protonet_with_identity_embedding_is_nearest_class_mean():
    x, y = _blobs()
    net = ProtoNet(x.shape[1], hidden=())
    xs, ys, xq = torch.from_numpy(x[::2]), torch.from_numpy(y[::2]), torch.from_numpy(x[1::2])
    means = np.stack([x[::2][y[::2] == k].mean(0) for k in range(8)])
    nearest = ((x[1::2, None] - means[None]) ** 2).sum(-1).argmin(1)
    assert torch.equal(net.logits(xs, ys, xq, 8).argmax(1), torch.from_numpy(nearest))
    assert torch.allclose(prototypes(xs, ys, 8), torch.from_numpy(means), atol=1e-5)


def test_maml_inner_step_is_a_hand_computed_gradient_step_and_zero_steps_is_plain():
    torch.manual_seed(0)
    net = MAMLNet(4, (), 3)  # logistic regression: the gradient is closed form
    x, y = torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    w, b = (p.detach() for p in net.weights)
    p = torch.softmax(x @ w.T + b, 1)
    residual = (p - F.one_hot(y, 3)) / len(x)
    adapted = net.adapt(x, y, 1, 0.3)
    assert torch.allclose(adapted[0], w - 0.3 * residual.T @ x, atol=1e-6)
    assert torch.allclose(adapted[1], b - 0.3 * residual.sum(0), atol=1e-6)
    assert all(a is p for a, p in zip(net.adapt(x, y, 0, 0.3), net.weights))


def test_protonets_and_maml_learn_separable_clusters_beyond_chance():
    x, y = _blobs(classes=10, per=20)
    train, test = y < 6, y >= 6
    sampler = TaskSampler(y[train], 3, 1, 3)
    tests = TaskSampler(y[test], 3, 1, 3)
    xt = torch.from_numpy(x)
    for method in ("protonets", "maml"):
        learner = fit_meta(
            xt[train],
            sampler,
            MetaConfig(
                method=method,
                ways=3,
                shots=1,
                queries=3,
                hidden=(16,),
                steps=30,
                first_order=True,
                inner_lr=0.2,
            ),
        )
        mean, _ = few_shot_accuracy(learner, xt[test], tests, tasks=40)
        assert mean > 0.75, method  # chance is 1/3
    assert baseline_accuracy("knn", x[test], tests, 40)[0] > 0.9


def test_cactus_partitions_make_tasks_and_recover_clusters():
    x, y = _blobs(classes=5, per=20)
    parts = kmeans_partitions(x, CactusConfig(partitions=3, clusters=5, seed=1))
    assert parts.shape == (3, 100)
    from sklearn.metrics import adjusted_rand_score

    assert min(adjusted_rand_score(y, row) for row in parts) > 0.9
    task = PartitionSampler(parts, 5, 2, 3).sample(np.random.default_rng(0))
    assert len(task.support) == 10 and len(task.query) == 15


def test_confidence_interval_against_hand_computation():
    mean, half = confidence_interval(np.array([1.0, 0.0, 0.5, 0.5]))
    assert mean == 0.5
    assert half == pytest.approx(1.96 * np.sqrt(1 / 6) / 2)


def test_bad_configs_raise_clear_errors(tmp_path):
    labels = np.repeat(np.arange(3), 4)
    with pytest.raises(InputError, match="5-way"):
        TaskSampler(labels, 5, 1, 1)
    with pytest.raises(InputError, match="shots \\+ queries = 9"):
        TaskSampler(labels, 2, 5, 4)
    with pytest.raises(InputError, match="partition 0"):
        PartitionSampler(labels[None], 3, 4, 1)
    with pytest.raises(InputError, match=r"MetaConfig\.ways"):
        MetaConfig(ways=1)
    with pytest.raises(InputError, match="meta-learner"):
        MetaConfig(method="reptile")
    with pytest.raises(InputError, match="Omniglot folder not found"):
        load_omniglot(tmp_path / "missing")
    with pytest.raises(InputError, match="no Omniglot images"):
        load_omniglot(tmp_path)


def test_cli_rejects_bad_config_in_one_line(capsys):
    from genmodels.cli import main

    assert main(["cactus", "--ways", "1"]) == 2
    assert "MetaConfig.ways" in capsys.readouterr().err


@pytest.mark.parametrize("method", ["protonets", "maml"])
def test_fit_meta_interrupted_then_resumed_equals_one_run_bit_for_bit(tmp_path, method):
    from core.errors import CheckpointMismatchError

    x, y = _blobs(classes=6, per=10)
    xt, sampler = torch.from_numpy(x), TaskSampler(y, 3, 1, 2)
    config = MetaConfig(method=method, ways=3, shots=1, queries=2, hidden=(8,), steps=6, meta_batch=2)
    config = replace(config, first_order=True, inner_steps=2) if method == "maml" else config
    whole = fit_meta(xt, sampler, config)
    path = tmp_path / "meta.safetensors"

    def interrupt(step, loss):
        if step == 2:  # 3 steps done, checkpointed at step 2
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit_meta(xt, sampler, config, checkpoint=path, checkpoint_every=2, on_step=interrupt)
    resumed = fit_meta(xt, sampler, config, checkpoint=path, checkpoint_every=2)
    assert resumed.history == whole.history and len(whole.history) == 6
    for a, b in zip(whole.model.state_dict().values(), resumed.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    longer = fit_meta(xt, sampler, replace(config, steps=8), checkpoint=path)  # steps may grow
    assert longer.history[:6] == whole.history and len(longer.history) == 8
    with pytest.raises(CheckpointMismatchError, match="'learning_rate'") as error:
        fit_meta(xt, sampler, replace(config, steps=8, learning_rate=0.1), checkpoint=path)
    assert "\n" not in str(error.value)

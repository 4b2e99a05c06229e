"""The MAC model and the two layout-inducing NMNs of the SQOOP study (Bahdanau et al. 2019)."""

import math

import pytest
import torch

from core.errors import InputError
from vision_attention.config import TrainConfig
from vision_attention.sqoop.config import SqoopConfig
from vision_attention.sqoop.models import AttentionNMN, LayoutNMN, MACNet, TreeNMN
from vision_attention.sqoop.study import induced_layout, make_sets, train_sqoop

SMALL = {"vocabulary": 6, "width": 8, "embedding": 8, "grid": 3}


def _batch(n=5, seed=0):
    generator = torch.Generator().manual_seed(seed)
    images = torch.rand(n, 1, 24, 24, generator=generator)
    tokens = torch.stack(
        [torch.randint(0, 6, (n,)), torch.randint(36, 40, (n,)), torch.randint(0, 6, (n,))], 1
    )
    return images, tokens


def test_mac_shapes_and_every_attention_is_a_distribution():
    torch.manual_seed(0)
    net = MACNet(SqoopConfig(model="mac", steps=3, **SMALL)).eval()
    images, tokens = _batch()
    assert net(images, tokens).shape == (5, 2)
    control, read = net.last_attention["control"], net.last_attention["read"]
    assert control.shape == (5, 3, 3) and read.shape == (5, 3, 9)
    for weights in (control, read):
        assert (weights >= 0).all()
        assert torch.allclose(weights.sum(-1), torch.ones(weights.shape[:-1]), atol=1e-6)


def test_layout_mixture_is_a_distribution_and_at_p_tree_one_is_the_tree_nmn():
    torch.manual_seed(0)
    config = SqoopConfig(model="layout", **SMALL)
    tree = TreeNMN(replace_model(config, "tree")).eval()
    layout = LayoutNMN(config).eval()
    missing = layout.load_state_dict(tree.state_dict(), strict=False)
    assert missing.missing_keys == ["tree_logit"] and not missing.unexpected_keys
    images, tokens = _batch()
    with torch.no_grad():
        mixed = layout(images, tokens)
        assert layout.p_tree() == 0.5
        assert torch.allclose(mixed.exp().sum(1), torch.ones(5), atol=1e-6)
        layout.tree_logit.fill_(60.0)  # p(tree) = 1 - 1e-26: the tree alone
        assert torch.allclose(layout(images, tokens), torch.log_softmax(tree(images, tokens), 1), atol=1e-6)
        # and at p(tree) = 0.5 the answer distribution is the mean of the tree's and the chain's
        layout.tree_logit.fill_(-60.0)
        chain = layout(images, tokens).exp()
        expected = 0.5 * (torch.softmax(tree(images, tokens), 1) + chain)
        assert torch.allclose(mixed.exp(), expected, atol=1e-6)
    with pytest.raises(InputError, match=r"SqoopConfig\.tree_logit"):
        SqoopConfig(model="layout", tree_logit=math.inf)


def test_attention_nmn_with_one_hot_attention_on_the_right_words_is_the_tree_nmn():
    torch.manual_seed(0)
    config = SqoopConfig(model="attention", **SMALL)
    tree = TreeNMN(replace_model(config, "tree")).eval()
    attention = AttentionNMN(config).eval()
    attention.load_state_dict(tree.state_dict(), strict=False)
    weights = attention.word_attention()
    assert torch.allclose(weights.sum(1), torch.ones(3)) and torch.allclose(
        weights, torch.full((3, 3), 1 / 3)
    )
    assert induced_layout(attention)["correct_attention"] == pytest.approx(1 / 3)
    with torch.no_grad():
        attention.word_logits.copy_(
            torch.tensor([[60.0, 0, 0], [0, 0, 60.0], [0, 60.0, 0]])
        )  # Find 1 <- X, Find 2 <- Y, Relate <- R
    images, tokens = _batch()
    with torch.no_grad():
        assert torch.allclose(attention(images, tokens), tree(images, tokens), atol=1e-6)
    assert induced_layout(attention) == {"correct_attention": pytest.approx(1.0), "words": "XYR"}


def test_a_tiny_layout_run_beats_chance_and_logs_p_tree_every_epoch():
    # 3 objects, 2 per scene on a 2x2 grid: the relation of two glyphs, learnable in a few seconds
    config = SqoopConfig(model="layout", vocabulary=3, width=8, embedding=8, grid=2, objects=2)
    train_set, test_set = make_sets(1, 512, 128, config, seed=0)
    run = train_sqoop(
        config,
        TrainConfig(model="sqoop-layout-test", epochs=8, batch_size=32, learning_rate=1e-2, seed=0),
        train_set,
        test_set,
        rhs_per_lhs=1,
    )
    # chance is 0.5 (balanced answers); the mixture must be clearly above it
    assert run.train_accuracy > 0.7, run.train_accuracy
    assert [row["epoch"] for row in run.history] == list(range(1, 9))
    assert all(0 < row["p_tree"] < 1 for row in run.history)
    assert run.induced["p_tree"] == run.history[-1]["p_tree"]


def replace_model(config, model):
    from dataclasses import replace

    return replace(config, model=model)

import pytest

from vision_attention.sqoop.data import OBJECTS, answer, make_questions, rhs_split


def test_split_is_deterministic_and_never_leaks_held_out_pairs():
    train, test = rhs_split(1, seed=3)
    assert rhs_split(1, seed=3) == (train, test)
    assert len(train) == 36 and len(test) == 36 * 35 - 36
    assert not set(train) & set(test)
    assert {x for x, _ in train} == set(range(len(OBJECTS)))
    qs = make_questions(train, 200, seed=1)
    assert qs == make_questions(train, 200, seed=1)
    assert {(q["lhs"], q["rhs"]) for q in qs} <= set(train)
    assert sum(q["answer"] for q in qs) == 100
    for q in qs:
        assert q["answer"] == answer(q["relation"], q["cells"][0], q["cells"][1])
        assert len(set(q["cells"])) == len(q["cells"]) and len(set(q["objects"])) == 5


def test_bad_input_raises_one_clear_error():
    with pytest.raises(ValueError, match="rhs_per_lhs"):
        rhs_split(0)
    with pytest.raises(ValueError, match="unknown relation"):
        answer("near", (0, 0), (1, 1))


def test_render_places_each_glyph_in_its_cell_and_sets_hold_only_their_pairs():
    import numpy as np
    import torch

    from core.errors import InputError
    from vision_attention.sqoop.config import SqoopConfig
    from vision_attention.sqoop.models import make_sqoop_model
    from vision_attention.sqoop.render import encode, glyphs, render
    from vision_attention.sqoop.study import make_sets

    q = {
        "lhs": 0,
        "relation": "below",
        "rhs": 35,
        "answer": True,
        "objects": [0, 35],
        "cells": [(2, 1), (0, 3)],
    }
    image = render([q], grid=4, cell=8)[0, 0].numpy()
    expected = np.zeros((32, 32), dtype=np.float32)
    expected[16:24, 8:16], expected[0:8, 24:32] = glyphs(8)[0], glyphs(8)[35]
    assert np.array_equal(image, expected) and glyphs(8)[0].max() > 0.5
    tokens, answers = encode([q])
    assert tokens.tolist() == [[0, 36 + RELATIONS_INDEX["below"], 35]] and answers.tolist() == [1]

    config = SqoopConfig(vocabulary=8, width=8, embedding=8)
    train_set, test_set = make_sets(1, 64, 64, config, seed=2)
    train_pairs, test_pairs = rhs_split(1, seed=2, vocabulary=8)
    assert {(int(x), int(y)) for x, _, y in train_set.tokens} <= set(train_pairs)
    assert {(int(x), int(y)) for x, _, y in test_set.tokens} <= set(test_pairs)
    assert int(train_set.tokens[:, [0, 2]].max()) < 8
    for model in ("tree", "chain", "film", "mac", "attention", "layout"):
        net = make_sqoop_model(SqoopConfig(model=model, vocabulary=8, width=8, embedding=8)).eval()
        logits = net(train_set.images[:5], train_set.tokens[:5])
        assert logits.shape == (5, 2)
        # each question is answered on its own: the batch around it does not change its logits
        assert torch.allclose(net(train_set.images[:1], train_set.tokens[:1]), logits[:1], atol=1e-6)
    with pytest.raises(InputError, match=r"SqoopConfig\.model"):
        SqoopConfig(model="transformer")
    with pytest.raises(InputError, match=r"SqoopConfig\.objects"):
        SqoopConfig(grid=2, objects=5)


RELATIONS_INDEX = {"left_of": 0, "right_of": 1, "above": 2, "below": 3}

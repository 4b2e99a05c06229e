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

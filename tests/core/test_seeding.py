import random

import numpy as np
import pytest
import torch

from core import InputError, make_generator, seed_everything


def draw() -> tuple[torch.Tensor, np.ndarray, float]:
    return torch.randn(5, 3), np.random.rand(4), random.random()  # noqa: NPY002


def test_seed_everything_reproduces_identical_tensors_arrays_and_floats():
    seed_everything(123)
    first = draw()
    seed_everything(123)
    second = draw()
    assert torch.equal(first[0], second[0])
    assert np.array_equal(first[1], second[1])
    assert first[2] == second[2]


def test_different_seeds_give_different_draws():
    seed_everything(1)
    a = torch.randn(100)
    seed_everything(2)
    b = torch.randn(100)
    assert not torch.equal(a, b)


def test_explicit_generator_is_independent_of_global_state():
    expected = torch.rand(6, generator=make_generator(7))
    seed_everything(99)
    torch.rand(10)
    assert torch.equal(torch.rand(6, generator=make_generator(7)), expected)


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_bad_seed_is_rejected_naming_it(bad):
    with pytest.raises(InputError, match="seed"):
        seed_everything(bad)

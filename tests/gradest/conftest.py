"""Shared problems for the gradest tests: small categoricals whose expectations are known exactly."""

from __future__ import annotations

import pytest
import torch


def _table_objective(table: torch.Tensor):
    """f(z) = <z, table>: any function of a category is a table lookup on one-hot z."""

    def objective(z: torch.Tensor) -> torch.Tensor:
        return (z * table).sum(-1)

    return objective


def _quadratic_objective(target: torch.Tensor):
    """f(z) = ||z - target||^2, defined for relaxed z too (the paper's toy form)."""

    def objective(z: torch.Tensor) -> torch.Tensor:
        return ((z - target) ** 2).sum(-1)

    return objective


@pytest.fixture
def table_objective():
    return _table_objective


@pytest.fixture
def quadratic_objective():
    return _quadratic_objective


@pytest.fixture
def concentrated_problem():
    logits = torch.tensor([3.0, 1.0, 0.5, 0.0, -1.0, -2.0])
    target = torch.linspace(0.3, 0.7, 6)
    return logits, _quadratic_objective(target)

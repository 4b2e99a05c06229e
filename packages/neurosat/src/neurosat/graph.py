"""Many formulas as one disjoint literal-clause graph (the paper's Figure 1, batched).

Literal layout of problem ``b`` with ``n_b`` variables, starting at offset ``o_b = sum_{j<b} 2 n_j``:
rows ``o_b .. o_b + n_b - 1`` are the positive literals ``x_1 .. x_n``, rows ``o_b + n_b .. o_b +
2 n_b - 1`` the negations. The flip permutation swaps the two halves of every problem. The
adjacency ``A`` (literals x clauses, eq. 1-2) is stored as an edge list and as two coalesced COO sparse
matrices so each message-passing round is two sparse-dense products.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from neurosat.cnf import Problem

__all__ = ["ProblemBatch", "batch_problems", "batches_by_nodes", "group_by_budget"]


@dataclass(frozen=True)
class ProblemBatch:
    """A batch of B formulas as one graph with L literals, C clauses, E literal occurrences.

    Attributes:
        n_vars: (B,) long, variables per problem.
        lit_offset: (B,) long, first literal row of each problem.
        lit_problem: (L,) long, problem of each literal row.
        clause_problem: (C,) long, problem of each clause.
        flip: (L,) long, row of each literal's negation.
        edge_lit: (E,) long, literal row of each occurrence.
        edge_clause: (E,) long, clause of each occurrence.
        labels: (B,) float, 1 = SAT, 0 = UNSAT, NaN = unknown.
        adj: (L, C) sparse COO literal-clause adjacency ``A``.
        adj_t: (C, L) sparse COO ``A^T``.
    """

    n_vars: torch.Tensor
    lit_offset: torch.Tensor
    lit_problem: torch.Tensor
    clause_problem: torch.Tensor
    flip: torch.Tensor
    edge_lit: torch.Tensor
    edge_clause: torch.Tensor
    labels: torch.Tensor
    adj: torch.Tensor
    adj_t: torch.Tensor

    @property
    def n_problems(self) -> int:
        return int(self.n_vars.shape[0])

    @property
    def n_literals(self) -> int:
        return int(self.lit_problem.shape[0])

    @property
    def n_clauses(self) -> int:
        return int(self.clause_problem.shape[0])

    def to(self, device: torch.device | str) -> ProblemBatch:
        return ProblemBatch(**{name: getattr(self, name).to(device) for name in self.__dataclass_fields__})


def batch_problems(problems: Sequence[Problem]) -> ProblemBatch:
    """Stack `problems` into one disjoint graph (vectorised; no per-edge Python loop)."""
    n_vars = np.array([p.n_vars for p in problems], dtype=np.int64)
    n_clauses = np.array([p.n_clauses for p in problems], dtype=np.int64)
    lit_offset = np.concatenate([[0], np.cumsum(2 * n_vars)[:-1]])
    lengths = np.array([len(c) for p in problems for c in p.clauses], dtype=np.int64)
    flat = np.fromiter((lit for p in problems for c in p.clauses for lit in c), dtype=np.int64)
    clause_problem = np.repeat(np.arange(len(problems)), n_clauses)
    edge_clause = np.repeat(np.arange(lengths.shape[0]), lengths)
    edge_problem = clause_problem[edge_clause]
    var = np.abs(flat) - 1
    edge_lit = lit_offset[edge_problem] + var + np.where(flat < 0, n_vars[edge_problem], 0)
    lit_problem = np.repeat(np.arange(len(problems)), 2 * n_vars)
    local = np.arange(lit_problem.shape[0]) - lit_offset[lit_problem]
    flip = lit_offset[lit_problem] + (local + n_vars[lit_problem]) % (2 * n_vars[lit_problem])
    labels = np.array([np.nan if p.is_sat is None else float(p.is_sat) for p in problems], dtype=np.float32)
    n_lits, n_cls = int(lit_problem.shape[0]), int(lengths.shape[0])
    edge_lit_t = torch.from_numpy(edge_lit)
    edge_clause_t = torch.from_numpy(edge_clause)
    values = torch.ones(edge_lit_t.shape[0])
    adj = torch.sparse_coo_tensor(
        torch.stack([edge_lit_t, edge_clause_t]), values, (n_lits, n_cls), check_invariants=False
    )
    adj_t = torch.sparse_coo_tensor(
        torch.stack([edge_clause_t, edge_lit_t]), values, (n_cls, n_lits), check_invariants=False
    )
    return ProblemBatch(
        n_vars=torch.from_numpy(n_vars),
        lit_offset=torch.from_numpy(lit_offset),
        lit_problem=torch.from_numpy(lit_problem),
        clause_problem=torch.from_numpy(clause_problem),
        flip=torch.from_numpy(flip),
        edge_lit=edge_lit_t,
        edge_clause=edge_clause_t,
        labels=torch.from_numpy(labels),
        adj=adj.coalesce(),
        adj_t=adj_t.coalesce(),
    )


def group_by_budget(sizes: Sequence[int], max_nodes: int) -> list[list[int]]:
    """Split positions ``0..len(sizes)-1`` into consecutive groups whose sizes sum to <= `max_nodes`.

    Greedy in order; an item larger than `max_nodes` gets a group of its own.
    """
    groups: list[list[int]] = []
    current: list[int] = []
    nodes = 0
    for i, size in enumerate(sizes):
        if current and nodes + size > max_nodes:
            groups.append(current)
            current, nodes = [], 0
        current.append(i)
        nodes += size
    if current:
        groups.append(current)
    return groups


def batches_by_nodes(problems: Sequence[Problem], max_nodes: int) -> list[list[int]]:
    """Split indices ``0..len(problems)-1`` into consecutive groups of at most `max_nodes` nodes.

    Nodes of a problem are its ``2 n`` literals plus its clauses (the paper batches by node count,
    12,000 at training). A problem larger than `max_nodes` gets a group of its own.
    """
    return group_by_budget([2 * p.n_vars + p.n_clauses for p in problems], max_nodes)

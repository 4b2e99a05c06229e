"""Graph problems reduced to SAT, for NeuroSAT's generalisation test (Selsam et al., 2019, Section 7.2).

Each encoder takes a `networkx.Graph` and a size ``k`` and returns an unlabelled `Problem` whose
models correspond to solutions; `graph_problems` draws Erdős–Rényi graphs and labels every
formula with a PySAT solver (the paper used several random-graph families; we use Erdős–Rényi
only). Variables are ``x[a, v]`` = "slot/colour ``a`` holds vertex ``v``", numbered
``a * |V| + v + 1``.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations

import networkx as nx
import numpy as np

from core.errors import InputError
from neurosat.cnf import Problem, make_problem
from neurosat.sr import solve_label

__all__ = [
    "REDUCTIONS",
    "clique",
    "colouring",
    "dominating_set",
    "graph_problems",
    "vertex_cover",
]


def _check(graph: nx.Graph, k: int, what: str) -> list:
    if not isinstance(graph, nx.Graph) or graph.is_directed():
        raise InputError(f"{what} needs an undirected networkx.Graph", item=type(graph).__name__)
    if graph.number_of_nodes() < 1:
        raise InputError(f"{what} needs a graph with at least one vertex", item=graph)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InputError(f"{what} size must be a positive integer", item=k)
    return list(graph.nodes)


def _var(slot: int, vertex: int, n: int) -> int:
    return slot * n + vertex + 1


def _at_most_one(literals: list[int]) -> list[tuple[int, ...]]:
    return [(-a, -b) for a, b in combinations(literals, 2)]


def colouring(graph: nx.Graph, k: int) -> Problem:
    """Proper ``k``-colouring: every vertex one colour, adjacent vertices different colours."""
    nodes = _check(graph, k, "colouring")
    n, pos = len(nodes), {v: i for i, v in enumerate(nodes)}
    clauses: list[tuple[int, ...]] = []
    for v in range(n):
        colours = [_var(c, v, n) for c in range(k)]
        clauses.append(tuple(colours))
        clauses += _at_most_one(colours)
    for a, b in graph.edges:
        if a != b:
            clauses += [(-_var(c, pos[a], n), -_var(c, pos[b], n)) for c in range(k)]
        else:
            clauses += [(-_var(c, pos[a], n),) for c in range(k)]
    return make_problem(k * n, clauses, name=f"colouring-k{k}-n{n}")


def _one_vertex_per_slot(k: int, n: int) -> list[tuple[int, ...]]:
    """Clauses saying each of the ``k`` slots holds exactly one of the ``n`` vertices."""
    clauses: list[tuple[int, ...]] = []
    for a in range(k):
        slot = [_var(a, v, n) for v in range(n)]
        clauses.append(tuple(slot))
        clauses += _at_most_one(slot)
    return clauses


def clique(graph: nx.Graph, k: int) -> Problem:
    """A clique of ``k`` distinct vertices: slot ``a`` holds one vertex, slots hold pairwise adjacent ones."""
    nodes = _check(graph, k, "clique")
    n = len(nodes)
    adjacent = {(u, v) for u, v in graph.edges} | {(v, u) for u, v in graph.edges}
    clauses = _one_vertex_per_slot(k, n)
    for v in range(n):
        clauses += _at_most_one([_var(a, v, n) for a in range(k)])
    for a, b in combinations(range(k), 2):
        for i, j in combinations(range(n), 2):
            if (nodes[i], nodes[j]) not in adjacent:
                clauses += [(-_var(a, i, n), -_var(b, j, n)), (-_var(a, j, n), -_var(b, i, n))]
    return make_problem(k * n, clauses, name=f"clique-k{k}-n{n}")


def dominating_set(graph: nx.Graph, k: int) -> Problem:
    """A dominating set of at most ``k`` vertices: every vertex is chosen or next to a chosen one."""
    nodes = _check(graph, k, "dominating set")
    n, pos = len(nodes), {v: i for i, v in enumerate(nodes)}
    clauses = _one_vertex_per_slot(k, n)
    for v in nodes:
        closed = {pos[v]} | {pos[u] for u in graph.neighbors(v)}
        clauses.append(tuple(_var(a, u, n) for a in range(k) for u in sorted(closed)))
    return make_problem(k * n, clauses, name=f"domset-k{k}-n{n}")


def vertex_cover(graph: nx.Graph, k: int) -> Problem:
    """A vertex cover of at most ``k`` vertices: every edge has an end point in a slot."""
    nodes = _check(graph, k, "vertex cover")
    n, pos = len(nodes), {v: i for i, v in enumerate(nodes)}
    clauses = _one_vertex_per_slot(k, n)
    for u, v in graph.edges:
        ends = sorted({pos[u], pos[v]})
        clauses.append(tuple(_var(a, e, n) for a in range(k) for e in ends))
    return make_problem(k * n, clauses, name=f"cover-k{k}-n{n}")


REDUCTIONS: dict[str, tuple[Callable[[nx.Graph, int], Problem], tuple[int, int]]] = {
    "colouring": (colouring, (3, 5)),
    "clique": (clique, (3, 5)),
    "dominating-set": (dominating_set, (2, 4)),
    "vertex-cover": (vertex_cover, (4, 6)),
}
"""Encoder and the range of ``k`` drawn for each problem family (our choice of small ranges that give
both SAT and UNSAT instances on 6-10 vertex graphs; the paper's exact graph distributions differ)."""


def graph_problems(
    kind: str,
    n_problems: int,
    *,
    n_nodes: tuple[int, int] = (6, 10),
    edge_prob: float = 0.37,
    seed: int = 0,
    balance: bool = True,
) -> list[Problem]:
    """Random instances of one reduction family, labelled by a PySAT solver.

    Graphs are Erdős–Rényi ``G(n, edge_prob)`` with ``n ~ U(n_nodes)``; ``k`` is drawn from the
    family's range in `REDUCTIONS`. With `balance`, draws continue until half the formulas are SAT.

    Raises:
        InputError: unknown `kind`, a non-positive count or a bad probability.
    """
    if kind not in REDUCTIONS:
        raise InputError("unknown reduction", item=kind, expected=", ".join(REDUCTIONS))
    if n_problems < 1:
        raise InputError("number of problems must be positive", item=n_problems)
    if not 0.0 <= edge_prob <= 1.0:
        raise InputError("edge probability outside [0, 1]", item=edge_prob)
    encode, (k_low, k_high) = REDUCTIONS[kind]
    rng = np.random.default_rng(seed)
    want_sat = n_problems // 2 if balance else n_problems
    sat: list[Problem] = []
    unsat: list[Problem] = []
    for _ in range(200 * n_problems):
        if balance and len(sat) >= want_sat and len(unsat) >= n_problems - want_sat:
            break
        if not balance and len(sat) + len(unsat) >= n_problems:
            break
        n = int(rng.integers(n_nodes[0], n_nodes[1] + 1))
        graph = nx.gnp_random_graph(n, edge_prob, seed=int(rng.integers(2**31)))
        problem = encode(graph, int(rng.integers(k_low, k_high + 1)))
        label, _ = solve_label(problem)
        bucket = sat if label else unsat
        if not balance or len(bucket) < (want_sat if label else n_problems - want_sat):
            bucket.append(problem.with_label(label))
    problems = [p for pair in zip(sat, unsat) for p in pair] + sat[len(unsat) :] + unsat[len(sat) :]
    if len(problems) < n_problems:
        raise InputError(
            "could not draw enough instances of both labels",
            item=f"{kind}: {len(sat)} SAT, {len(unsat)} UNSAT",
        )
    return problems[:n_problems]

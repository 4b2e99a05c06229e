"""Reductions to SAT agree with brute-force graph search on small random graphs."""

from __future__ import annotations

from itertools import combinations, product

import networkx as nx
import pytest

from core.errors import InputError
from neurosat.reductions import clique, colouring, dominating_set, graph_problems, vertex_cover
from neurosat.sr import solve_label


def _graphs():
    for seed in range(12):
        yield nx.gnp_random_graph(6 + seed % 2, 0.45, seed=seed)


def _has_colouring(graph: nx.Graph, k: int) -> bool:
    nodes = list(graph)
    return any(
        all(colours[nodes.index(a)] != colours[nodes.index(b)] for a, b in graph.edges)
        for colours in product(range(k), repeat=len(nodes))
    )


def _has_clique(graph: nx.Graph, k: int) -> bool:
    return any(all(graph.has_edge(a, b) for a, b in combinations(s, 2)) for s in combinations(graph, k))


def _has_dominating_set(graph: nx.Graph, k: int) -> bool:
    return any(nx.is_dominating_set(graph, s) for size in range(1, k + 1) for s in combinations(graph, size))


def _has_vertex_cover(graph: nx.Graph, k: int) -> bool:
    return any(
        all(a in s or b in s for a, b in graph.edges)
        for size in range(0, k + 1)
        for s in combinations(graph, size)
    )


@pytest.mark.parametrize(
    ("encode", "brute", "ks"),
    [
        (colouring, _has_colouring, (2, 3)),
        (clique, _has_clique, (3, 4)),
        (dominating_set, _has_dominating_set, (1, 2)),
        (vertex_cover, _has_vertex_cover, (3, 4)),
    ],
)
def test_reduction_is_sat_exactly_when_brute_force_finds_a_solution(encode, brute, ks) -> None:
    outcomes = set()
    for graph in _graphs():
        for k in ks:
            label, _ = solve_label(encode(graph, k))
            assert label == brute(graph, k), (encode.__name__, k, list(graph.edges))
            outcomes.add(label)
    assert outcomes == {True, False}  # both answers occur, so the check has teeth


def test_decoded_colouring_model_is_a_proper_colouring() -> None:
    graph = nx.cycle_graph(5)
    label, model = solve_label(colouring(graph, 3))
    assert label
    true = {lit for lit in model if lit > 0}
    colour = {v: c for c in range(3) for v in range(5) if c * 5 + v + 1 in true}
    assert len(colour) == 5 and all(colour[a] != colour[b] for a, b in graph.edges)


def test_graph_problems_are_balanced_and_labelled() -> None:
    problems = graph_problems("clique", 10, seed=0)
    assert sum(p.is_sat for p in problems) == 5
    assert all(solve_label(p)[0] == p.is_sat for p in problems)


def test_reductions_reject_bad_input() -> None:
    with pytest.raises(InputError, match="unknown reduction"):
        graph_problems("hamiltonian", 4)
    with pytest.raises(InputError, match="positive integer"):
        colouring(nx.path_graph(3), 0)
    with pytest.raises(InputError, match="undirected"):
        clique(nx.DiGraph([(0, 1)]), 2)

"""Tree decomposition and assembly, checked against hand-worked molecules, networkx and round trips."""

from __future__ import annotations

import networkx as nx
import pytest
from rdkit import Chem

from core.errors import InputError
from molgraph import JunctionTree, bundled_smiles, reassemble, tree_decompose
from molgraph.chem import kekule_mol

ROUND_TRIP_SIZE = 200


def _clusters(smiles: str) -> tuple[list[list[int]], list[tuple[int, int]]]:
    return tree_decompose(kekule_mol(smiles))


def test_single_ring_is_one_cluster():
    clusters, edges = _clusters("c1ccccc1")
    assert clusters == [[0, 1, 2, 3, 4, 5]] and edges == []


def test_fused_rings_share_a_bond():
    clusters, edges = _clusters("c1ccc2ccccc2c1")  # naphthalene
    assert len(clusters) == 2 and len(edges) == 1
    assert len(set(clusters[0]) & set(clusters[1])) == 2


def test_bridged_rings_merge_into_one_cluster():
    clusters, edges = _clusters("C1C2CC3CC1CC(C2)C3")  # adamantane: SSSR rings share 3 atoms
    assert len(clusters) == 1 and sorted(clusters[0]) == list(range(10)) and edges == []


def test_atom_in_three_bonds_becomes_singleton():
    clusters, edges = _clusters("CC(C)C")  # isobutane: the central carbon joins three bonds
    assert [1] in clusters
    assert len(clusters) == 4 and len(edges) == 3
    singleton = clusters.index([1])
    assert all(singleton in e for e in edges)


@pytest.mark.parametrize("smiles", bundled_smiles("train")[:60])
def test_decomposition_is_a_maximum_spanning_tree_covering_every_bond(smiles):
    mol = kekule_mol(Chem.MolToSmiles(Chem.MolFromSmiles(smiles)))
    clusters, edges = tree_decompose(mol)
    # every atom and every bond lies in some cluster
    assert set().union(*map(set, clusters)) == set(range(mol.GetNumAtoms()))
    for bond in mol.GetBonds():
        pair = {bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()}
        assert any(pair <= set(c) for c in clusters)
    tree = nx.Graph(edges)
    tree.add_nodes_from(range(len(clusters)))
    assert nx.is_tree(tree)
    # independent reference: networkx's maximum spanning tree of the cluster graph has the same weight
    graph = nx.Graph()
    graph.add_nodes_from(range(len(clusters)))
    weights = {}
    for i in range(len(clusters)):
        for j in range(i + 1, len(clusters)):
            shared = len(set(clusters[i]) & set(clusters[j]))
            if shared:
                w = shared
                if (
                    len(clusters[j]) == 1 or len(clusters[i]) == 1
                ):  # singleton links as weighted by the method
                    ring = clusters[i] if len(clusters[j]) == 1 else clusters[j]
                    atom = clusters[j][0] if len(clusters[j]) == 1 else clusters[i][0]
                    n_rings = sum(1 for c in clusters if len(c) > 4 and atom in c)
                    w = 99 if n_rings > 2 and len(ring) > 4 else 1
                graph.add_edge(i, j, weight=w)
                weights[(i, j)] = w
    if len(edges) > 0 and all(len(c) > 1 for c in clusters):
        reference = nx.maximum_spanning_tree(graph)
        ours = sum(weights[e] for e in edges)
        assert ours == sum(d["weight"] for *_, d in reference.edges(data=True))


def test_ground_truth_assembly_round_trips_99_percent_of_bundled_molecules():
    molecules = bundled_smiles("train")[:ROUND_TRIP_SIZE]
    recovered = 0
    for smiles in molecules:
        tree = JunctionTree(smiles)
        recovered += reassemble(tree) == Chem.MolToSmiles(Chem.MolFromSmiles(smiles))
    assert recovered / len(molecules) >= 0.99


def test_assembled_molecules_sanitise():
    for smiles in bundled_smiles("test")[:20]:
        out = reassemble(JunctionTree(smiles))
        if out is not None:
            assert Chem.MolFromSmiles(out) is not None


@pytest.mark.parametrize(
    ("smiles", "reason"),
    [
        ("C1CC", "syntax"),
        ("c1cccc1", "kekulize"),
        ("CC(C)(C)(C)C", "valence"),
        ("", "empty"),
        ("CC.O", "disconnected"),
    ],
)
def test_bad_smiles_raise_input_error_naming_string_and_reason(smiles, reason):
    with pytest.raises(InputError) as info:
        JunctionTree(smiles)
    message = str(info.value).lower()
    assert reason in message
    if smiles:
        assert smiles.lower() in message

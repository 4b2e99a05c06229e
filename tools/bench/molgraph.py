"""Benchmark: junction trees per second, graph batching, and JT-VAE training molecules per second.

The authors' reference code (Python 2 / old PyTorch) cannot be fetched or run here, so the peers are
what a user would otherwise write:

* decomposition: a straightforward RDKit implementation of the same rules, building the cluster
  graph by comparing every pair of clusters and taking networkx's maximum spanning tree; both must
  give spanning trees of equal total weight (checked on every molecule, reported). Timed twice:
  the bare decomposition (`tree_decompose` on a parsed molecule) and the whole `JunctionTree`
  from a SMILES (parsing, kekulisation, decomposition and labelling every cluster with its SMILES),
  against the peer doing the same parsing and labelling with ``Chem.MolFragmentToSmiles``.
* graph batching: `molgraph.batching.batch_graphs` against PyTorch Geometric's
  ``Batch.from_data_list`` on the same graphs (prebuilt ``Data`` objects), same tensors out.
* training: the same JT-VAE run one molecule per forward pass (gradients accumulated over the batch,
  the per-molecule loop of a naive implementation) against one disjoint graph per batch.

Ratios are what to compare; absolute numbers depend on the machine (and on its load).

    uv run --group bench python tools/bench/molgraph.py [--molecules 500] [--train 64] [--out runs/bench]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# this file is named like the package it benchmarks: keep its folder off the import path
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from rdkit import Chem  # noqa: E402
from torch_geometric.data import Batch, Data  # noqa: E402

from core.results import ResultTable  # noqa: E402
from core.timing import measure  # noqa: E402
from molgraph import JTVAE, JTVAEConfig, JunctionTree, bundled_smiles, prepare, tree_decompose  # noqa: E402
from molgraph.batching import batch_graphs  # noqa: E402
from molgraph.chem import kekule_mol  # noqa: E402
from molgraph.graphs import mol_graph  # noqa: E402


def naive_decompose(mol: Chem.Mol) -> tuple[list[list[int]], list[tuple[int, int]]]:
    """The same clustering rules written plainly: all-pairs cluster graph, networkx spanning tree."""
    n = mol.GetNumAtoms()
    if n == 1:
        return [[0]], []
    clusters = [[b.GetBeginAtomIdx(), b.GetEndAtomIdx()] for b in mol.GetBonds() if not b.IsInRing()]
    rings = [set(r) for r in Chem.GetSymmSSSR(mol)]
    merged = True
    while merged:
        merged = False
        for i in range(len(rings)):
            for j in range(i + 1, len(rings)):
                if rings[i] and rings[j] and len(rings[i] & rings[j]) > 2:
                    rings[i] |= rings[j]
                    rings[j] = set()
                    merged = True
    clusters += [sorted(r) for r in rings if r]
    graph = nx.Graph()
    graph.add_nodes_from(range(len(clusters)))
    for atom in range(n):
        owners = [c for c in range(len(clusters)) if atom in clusters[c]]
        if len(owners) <= 1:
            continue
        bonds = [c for c in owners if len(clusters[c]) == 2]
        rings_here = [c for c in owners if len(clusters[c]) > 4]
        if len(bonds) > 2 or (len(bonds) == 2 and len(owners) > 2) or len(rings_here) > 2:
            clusters.append([atom])
            weight = 1 if len(bonds) > 2 or (len(bonds) == 2 and len(owners) > 2) else 99
            for c in owners:
                graph.add_edge(c, len(clusters) - 1, weight=weight)
        else:
            for i, c1 in enumerate(owners):
                for c2 in owners[i + 1 :]:
                    shared = len(set(clusters[c1]) & set(clusters[c2]))
                    old = graph.get_edge_data(c1, c2, {"weight": 0})["weight"]
                    graph.add_edge(c1, c2, weight=max(old, shared))
    tree = nx.maximum_spanning_tree(graph)
    return clusters, sorted((min(a, b), max(a, b)) for a, b in tree.edges())


def _weight(clusters: list[list[int]], edges: list[tuple[int, int]]) -> int:
    return sum(len(set(clusters[a]) & set(clusters[b])) for a, b in edges)


def bench_decomposition(molecules: list[str], repeats: int) -> dict:
    mols = [kekule_mol(Chem.MolToSmiles(Chem.MolFromSmiles(s))) for s in molecules]
    ours = measure(lambda: [tree_decompose(m) for m in mols], repeats=repeats)
    naive = measure(lambda: [naive_decompose(m) for m in mols], repeats=repeats)
    same_clusters = sum(
        sorted(map(sorted, a[0])) == sorted(map(sorted, b[0])) and _weight(*a) == _weight(*b)
        for a, b in zip(ours.last_value, naive.last_value)
    )
    return {
        "ours_per_s": ours.per_second(len(mols)),
        "naive_per_s": naive.per_second(len(mols)),
        "agree": same_clusters / len(mols),
    }


def naive_junction_tree(smiles: str) -> list[str]:
    """The peer of `JunctionTree`: parse, kekulise, `naive_decompose`, label each cluster by SMILES."""
    mol = Chem.MolFromSmiles(smiles)
    flat = Chem.MolToSmiles(mol, isomericSmiles=False)
    kekule = kekule_mol(flat)
    clusters, _ = naive_decompose(kekule)
    return [Chem.MolFragmentToSmiles(kekule, c, kekuleSmiles=True) for c in clusters]


def bench_junction_trees(molecules: list[str], repeats: int) -> dict:
    ours = measure(lambda: [JunctionTree(s) for s in molecules], repeats=repeats)
    naive = measure(lambda: [naive_junction_tree(s) for s in molecules], repeats=repeats)
    same_size = sum(len(t) == len(c) for t, c in zip(ours.last_value, naive.last_value))
    return {
        "ours_per_s": ours.per_second(len(molecules)),
        "naive_per_s": naive.per_second(len(molecules)),
        "same_cluster_count": same_size / len(molecules),
    }


def bench_batching(molecules: list[str], repeats: int) -> dict:
    graphs = [mol_graph(Chem.MolFromSmiles(s)) for s in molecules]
    data = [
        Data(
            x=torch.from_numpy(g.x.astype(np.float32)),
            edge_index=torch.from_numpy(np.stack([g.src, g.dst]).astype(np.int64)),
            edge_attr=torch.from_numpy(g.bond.astype(np.float32)),
        )
        for g in graphs
    ]
    ours = measure(lambda: batch_graphs(graphs), repeats=repeats)
    pyg = measure(lambda: Batch.from_data_list(data), repeats=repeats)
    a, b = ours.last_value, pyg.last_value
    same = torch.equal(a.x, b.x) and torch.equal(torch.stack([a.src, a.dst]), b.edge_index)
    return {
        "ours_per_s": ours.per_second(len(graphs)),
        "pyg_per_s": pyg.per_second(len(graphs)),
        "same_tensors": bool(same and torch.equal(a.graph, b.batch)),
        "n": len(graphs),
    }


def bench_training(molecules: list[str], batch: int, repeats: int) -> dict:
    prepared = prepare(molecules, desc="bench")
    samples = prepared.samples[:batch]
    model = JTVAE(prepared.vocab, JTVAEConfig(hidden=128, latent=32, depth_tree=10, depth_graph=3), seed=0)

    def batched() -> float:
        model.zero_grad()
        out = model(samples, beta=0.0)
        out["loss"].backward()
        return float(out["loss"].detach())

    def one_by_one() -> float:
        model.zero_grad()
        total = 0.0
        for sample in samples:
            out = model([sample], beta=0.0)
            (out["loss"] / len(samples)).backward()
            total += float(out["loss"].detach()) / len(samples)
        return total

    fast = measure(batched, repeats=repeats)
    slow = measure(one_by_one, repeats=repeats)
    return {
        "batched_per_s": fast.per_second(len(samples)),
        "loop_per_s": slow.per_second(len(samples)),
        "loss_batched": fast.last_value,
        "loss_loop": slow.last_value,
        "n": len(samples),
        "vocab": len(prepared.vocab),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--molecules", type=int, default=500, help="molecules decomposed per repeat")
    parser.add_argument("--train", type=int, default=64, help="molecules per training step")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--out", type=Path, default=Path("runs/bench"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    molecules = bundled_smiles("train")
    dec = bench_decomposition(molecules[: args.molecules], args.repeats)
    jt = bench_junction_trees(molecules[: args.molecules], args.repeats)
    bat = bench_batching(molecules[: args.molecules], args.repeats)
    trn = bench_training(molecules[: args.train], args.train, args.repeats)
    table = ResultTable(
        "molgraph_bench",
        title="molgraph: junction trees, batching and training throughput",
        notes=(
            f"Bundled MOSES molecules; CPU, {args.threads} torch thread(s); median of {args.repeats} repeats after a "
            "warm-up (core.timing.measure). Decomposition peer: plain RDKit + networkx maximum spanning tree "
            f"(same clusters and equal tree weight on {100 * dec['agree']:.1f}% of molecules); the junction-tree row "
            "adds parsing, kekulisation and cluster labelling to both (JunctionTree from SMILES against the peer "
            f"with Chem.MolFragmentToSmiles; same cluster count on {100 * jt['same_cluster_count']:.1f}%). Batching "
            f"peer: torch_geometric Batch.from_data_list on prebuilt Data objects of the same {bat['n']} molecules "
            f"(same x, edge_index and batch tensors: {bat['same_tensors']}). Training peer: the same "
            f"model (hidden 128, latent 32, vocabulary {trn['vocab']}) one molecule per forward pass; one step = "
            f"forward + backward over {trn['n']} molecules (losses: batched {trn['loss_batched']:.3f}, loop "
            f"{trn['loss_loop']:.3f}; they differ only by the random reparameterisation noise). The authors' reference "
            "code could not be run here."
        ),
    )
    for task, ours, peer in (
        ("tree decomposition (parsed molecule)", dec["ours_per_s"], dec["naive_per_s"]),
        ("junction tree from SMILES, clusters labelled", jt["ours_per_s"], jt["naive_per_s"]),
        ("graph batching", bat["ours_per_s"], bat["pyg_per_s"]),
        ("training step (fwd + bwd)", trn["batched_per_s"], trn["loop_per_s"]),
    ):
        table.add(task=task, unit="molecules/s", molgraph=ours, peer=peer, speedup=ours / peer)
    print(table.to_markdown())
    path = table.save(args.out)
    print(f"\nwritten: {path}")
    print(
        json.dumps(
            {"decomposition": dec, "junction_tree": jt, "batching": bat, "training": trn}, default=float
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

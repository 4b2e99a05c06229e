"""Batching of molecular graphs and junction trees into one disjoint graph each (torch tensors).

Batching concatenates graphs and offsets indices, the PyTorch Geometric convention; edge pairs stay
adjacent, so the reverse of edge ``e`` is ``e ^ 1``.

Why not PyG's ``Batch.from_data_list``: it gives the same tensors (x, edge_index, batch vector
checked equal on 256 bundled molecules) but is much slower on the compact NumPy graphs prepared
molecules are stored as. Measured in one run (1 torch thread, busy 2-core machine, 256 molecules,
median of 5): `batch_graphs` 104,000 molecules/s; ``Batch.from_data_list`` 3,400/s on prebuilt
``Data`` objects (30x slower) and 880/s including building them from the arrays (118x slower);
prebuilt ``Data`` objects would also hold float tensors per candidate graph, the 0.18 MB per
molecule that the uint8 arrays brought down to 0.064 MB. Reproduce with
``uv run --group bench python tools/bench/molgraph.py`` (row "graph batching"). Keeping PyG out
also keeps it out of the import path: molgraph does not depend on it at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from molgraph.graphs import ATOM_DIM, BOND_DIM, MolGraph

__all__ = ["GraphBatch", "TreeBatch", "batch_graphs", "batch_trees"]


@dataclass
class GraphBatch:
    """Many `MolGraph` as one disjoint graph; ``graph (n_atoms,)`` gives each atom's molecule."""

    x: torch.Tensor
    src: torch.Tensor
    dst: torch.Tensor
    bond: torch.Tensor
    atom_map: torch.Tensor
    graph: torch.Tensor
    num_graphs: int

    @property
    def rev(self) -> torch.Tensor:
        return torch.arange(self.src.numel(), device=self.src.device) ^ 1

    def to(self, device: torch.device) -> GraphBatch:
        return GraphBatch(
            self.x.to(device),
            self.src.to(device),
            self.dst.to(device),
            self.bond.to(device),
            self.atom_map.to(device),
            self.graph.to(device),
            self.num_graphs,
        )


@dataclass
class TreeBatch:
    """Junction trees as one disjoint graph: ``wid (n_nodes,)`` cluster indices, directed edges
    ``src, dst``, ``tree (n_nodes,)`` the tree of each node, ``root (n_trees,)`` global root index."""

    wid: torch.Tensor
    src: torch.Tensor
    dst: torch.Tensor
    tree: torch.Tensor
    root: torch.Tensor

    @property
    def rev(self) -> torch.Tensor:
        return torch.arange(self.src.numel(), device=self.src.device) ^ 1

    def to(self, device: torch.device) -> TreeBatch:
        return TreeBatch(*(t.to(device) for t in (self.wid, self.src, self.dst, self.tree, self.root)))


def batch_graphs(graphs: Sequence[MolGraph]) -> GraphBatch:
    """Concatenate `graphs` into one disjoint graph (edge pairs stay adjacent, so ``rev = e ^ 1`` holds)."""
    atoms = np.array([g.x.shape[0] for g in graphs], dtype=np.int64)
    bonds = np.array([g.src.shape[0] for g in graphs], dtype=np.int64)
    shift = np.repeat(np.cumsum(atoms) - atoms, bonds)  # atom offset of each bond's molecule
    return GraphBatch(
        x=torch.from_numpy(np.concatenate([g.x for g in graphs]).astype(np.float32)).reshape(-1, ATOM_DIM),
        src=torch.from_numpy(np.concatenate([g.src for g in graphs]).astype(np.int64) + shift),
        dst=torch.from_numpy(np.concatenate([g.dst for g in graphs]).astype(np.int64) + shift),
        bond=torch.from_numpy(np.concatenate([g.bond for g in graphs]).astype(np.float32)).reshape(
            -1, BOND_DIM
        ),
        atom_map=torch.from_numpy(np.concatenate([g.atom_map for g in graphs]).astype(np.int64)),
        graph=torch.from_numpy(np.repeat(np.arange(len(graphs), dtype=np.int64), atoms)),
        num_graphs=len(graphs),
    )


def batch_trees(wids: Sequence[Sequence[int]], edges: Sequence[Sequence[tuple[int, int]]]) -> TreeBatch:
    """One disjoint graph of junction trees; node 0 of each tree is its root."""
    src, dst, tree, roots, all_wids = [], [], [], [], []
    total = 0
    for t, (w, es) in enumerate(zip(wids, edges)):
        roots.append(total)
        all_wids.extend(w)
        tree.extend([t] * len(w))
        for a, b in es:
            src += [a + total, b + total]
            dst += [b + total, a + total]
        total += len(w)
    return TreeBatch(
        wid=torch.tensor(all_wids, dtype=torch.long),
        src=torch.tensor(src, dtype=torch.long),
        dst=torch.tensor(dst, dtype=torch.long),
        tree=torch.tensor(tree, dtype=torch.long),
        root=torch.tensor(roots, dtype=torch.long),
    )

"""Tensor views of molecules and junction trees, and their batching into one disjoint graph.

Graphs are stored with directed edges in pairs (edge ``2k`` and ``2k+1`` are the two directions of
one bond or tree edge), so the reverse of edge ``e`` is ``e ^ 1``. Batching concatenates graphs
and offsets indices, the PyTorch Geometric convention.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from rdkit import Chem

__all__ = [
    "ATOM_DIM",
    "BOND_DIM",
    "GraphBatch",
    "MolGraph",
    "TreeBatch",
    "atom_features",
    "batch_graphs",
    "batch_trees",
    "mol_graph",
]

ELEMENTS = ("C", "N", "O", "S", "F", "Si", "P", "Cl", "Br", "I", "B", "Se", "H", "Na", "K", "Mg", "Zn")
CHARGES = (0, 1, -1, 2, -2)
MAX_DEGREE = 5
CIP_CODES = ("R", "S")
ATOM_DIM = len(ELEMENTS) + 1 + (MAX_DEGREE + 1) + len(CHARGES) + 2 + len(CIP_CODES)
BOND_TYPES = (Chem.BondType.SINGLE, Chem.BondType.DOUBLE, Chem.BondType.TRIPLE, Chem.BondType.AROMATIC)
BOND_STEREO = (Chem.BondStereo.STEREOE, Chem.BondStereo.STEREOZ)
BOND_DIM = len(BOND_TYPES) + len(BOND_STEREO) + 1


@dataclass
class MolGraph:
    """One molecule: ``x (n_atoms, ATOM_DIM)``, directed bonds ``src, dst (2 n_bonds,)``,
    ``bond (2 n_bonds, BOND_DIM)`` and ``atom_map (n_atoms,)`` (atom-map numbers, 0 when unset).

    Stored compactly as NumPy arrays (features uint8 0/1, indices int32): a prepared training set
    holds dozens of candidate graphs per molecule, and a small array costs a fraction of a tensor's
    memory. `batch_graphs` turns many of them into float32 / int64 tensors.
    """

    x: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    bond: np.ndarray
    atom_map: np.ndarray


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


def atom_features(atom: Chem.Atom) -> list[float]:
    """One-hot element (+ other), degree 0..5, formal charge, aromatic flag, in-ring flag, CIP label
    R / S (all zero when the centre is unassigned or the atom is not a stereocentre)."""
    out = [0.0] * ATOM_DIM
    symbol = atom.GetSymbol()
    out[ELEMENTS.index(symbol) if symbol in ELEMENTS else len(ELEMENTS)] = 1.0
    offset = len(ELEMENTS) + 1
    out[offset + min(atom.GetDegree(), MAX_DEGREE)] = 1.0
    offset += MAX_DEGREE + 1
    charge = atom.GetFormalCharge()
    if charge in CHARGES:
        out[offset + CHARGES.index(charge)] = 1.0
    offset += len(CHARGES)
    out[offset] = float(atom.GetIsAromatic())
    out[offset + 1] = float(atom.IsInRing())
    offset += 2
    if atom.HasProp("_CIPCode") and atom.GetProp("_CIPCode") in CIP_CODES:
        out[offset + CIP_CODES.index(atom.GetProp("_CIPCode"))] = 1.0
    return out


def mol_graph(mol: Chem.Mol) -> MolGraph:
    """Tensors of `mol` (any RDKit molecule; aromatic or kekulé).

    Bond features: one-hot type, E / Z double-bond stereo (as RDKit perceives it when parsing a
    SMILES; zero when unassigned), in-ring flag. Stereo features let the graph encoder tell
    stereoisomers apart (the stereo choice after decoding relies on it).
    """
    x = np.array([atom_features(a) for a in mol.GetAtoms()], dtype=np.uint8)
    src, dst, feats = [], [], []
    for bond in mol.GetBonds():
        a, b = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        f = [0.0] * BOND_DIM
        bt = bond.GetBondType()
        if bt in BOND_TYPES:
            f[BOND_TYPES.index(bt)] = 1.0
        stereo = bond.GetStereo()
        if stereo in BOND_STEREO:
            f[len(BOND_TYPES) + BOND_STEREO.index(stereo)] = 1.0
        f[-1] = float(bond.IsInRing())
        src += [a, b]
        dst += [b, a]
        feats += [f, f]
    return MolGraph(
        x=x.reshape(-1, ATOM_DIM),
        src=np.array(src, dtype=np.int32),
        dst=np.array(dst, dtype=np.int32),
        bond=np.array(feats, dtype=np.uint8).reshape(-1, BOND_DIM),
        atom_map=np.array([a.GetAtomMapNum() for a in mol.GetAtoms()], dtype=np.int32),
    )


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

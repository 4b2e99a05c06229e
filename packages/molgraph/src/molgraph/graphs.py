"""Molecules as compact graphs: one-hot atom and bond features in NumPy arrays (RDKit in, no torch).

Graphs are stored with directed edges in pairs (edge ``2k`` and ``2k+1`` are the two directions of
one bond), so the reverse of edge ``e`` is ``e ^ 1``. Preparation (`molgraph.dataset`) builds them in
worker processes that import only RDKit and NumPy; `molgraph.batching` turns them into tensors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rdkit import Chem

__all__ = ["ATOM_DIM", "BOND_DIM", "MolGraph", "atom_features", "mol_graph"]

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

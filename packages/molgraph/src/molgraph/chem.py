"""RDKit helpers shared by the decomposition and the assembly: parsing, kekulé copies, sanitising.

Every molecule inside the package is handled in kekulé form (explicit single/double bonds, no
aromatic flags) so that fragments cut out of an aromatic ring can be re-joined bond by bond;
aromaticity is re-perceived by RDKit when a finished molecule is sanitised.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rdkit import Chem, rdBase

from core.errors import InputError

__all__ = [
    "canonical_smiles",
    "copy_atom",
    "editable_copy",
    "fragment_mol",
    "fragment_with_origin",
    "kekule_mol",
    "kekule_smiles",
    "parse_smiles",
    "rdkit_quiet",
    "sanitized",
    "set_atom_map",
]


@contextmanager
def rdkit_quiet() -> Iterator[None]:
    """Silence RDKit's log (parse and kekulisation messages) inside the block, then restore it.

    The assembly tries thousands of attachments RDKit refuses, each of which would print a line;
    the reason a molecule fails reaches the user as an `InputError` or a stated reason instead.
    Uses ``rdBase.BlockLogs``, which puts back whatever log levels were set before.
    """
    block = rdBase.BlockLogs()
    try:
        yield
    finally:
        del block


def parse_smiles(smiles: str, *, where: str | None = None, keep_stereo: bool = False) -> Chem.Mol:
    """Parse a user SMILES into a sanitised RDKit molecule.

    Args:
        smiles: the SMILES string.
        where: optional location shown in the error (``"file.smi line 12"``).
        keep_stereo: keep the tetrahedral and double-bond stereo the SMILES gives (``@``, ``/``);
            by default it is removed (the junction tree and its clusters are stereo-free).

    Raises:
        InputError: naming the string and RDKit's reason when it does not parse or sanitise.
    """
    if not isinstance(smiles, str) or not smiles.strip():
        raise InputError("empty or non-string SMILES", item=_located(repr(smiles), where))
    text = smiles.strip()
    with rdkit_quiet():
        mol = Chem.MolFromSmiles(text, sanitize=False)
    if mol is None:
        raise InputError("SMILES does not parse (RDKit: syntax error)", item=_located(text, where))
    try:
        with rdkit_quiet():
            Chem.SanitizeMol(mol)
    except Exception as exc:  # RDKit raises several exception types for chemistry errors
        raise InputError(
            f"SMILES is not a valid molecule (RDKit: {exc})", item=_located(text, where)
        ) from exc
    if mol.GetNumAtoms() == 0:
        raise InputError("SMILES has no atoms", item=_located(text, where))
    if len(Chem.GetMolFrags(mol)) > 1:
        raise InputError(
            "SMILES has several disconnected fragments", item=_located(text, where), expected="one molecule"
        )
    if not keep_stereo:
        Chem.RemoveStereochemistry(mol)
    # explicit hydrogens (``[H]N=C...``) become implicit, as `Chem.MolFromSmiles` does; RDKit keeps
    # only those that define a stereo element, so none are left without stereo
    return Chem.RemoveHs(mol)


def canonical_smiles(smiles_or_mol: str | Chem.Mol, *, isomeric: bool = False) -> str:
    """RDKit canonical SMILES, without stereo unless `isomeric` (raises `InputError` on an invalid string)."""
    if isinstance(smiles_or_mol, str):
        mol = parse_smiles(smiles_or_mol, keep_stereo=isomeric)
    else:
        mol = smiles_or_mol
    return Chem.MolToSmiles(mol, isomericSmiles=isomeric)


def _located(text: str, where: str | None) -> str:
    return f"{where}: {text}" if where else text


def kekule_mol(smiles: str) -> Chem.Mol | None:
    """Parse `smiles` and kekulise it with aromatic flags cleared; None when that fails."""
    with rdkit_quiet():
        mol = Chem.MolFromSmiles(smiles)
        if mol is None:
            return None
        try:
            Chem.Kekulize(mol, clearAromaticFlags=True)
        except Exception:
            return None
    return mol


def kekule_smiles(mol: Chem.Mol) -> str:
    """Canonical kekulé SMILES (atom-map numbers kept)."""
    return Chem.MolToSmiles(mol, kekuleSmiles=True)


def sanitized(mol: Chem.Mol) -> Chem.Mol | None:
    """Round-trip `mol` through kekulé SMILES; None when RDKit cannot sanitise it."""
    try:
        return kekule_mol(kekule_smiles(mol))
    except Exception:
        return None


def copy_atom(atom: Chem.Atom) -> Chem.Atom:
    """A fresh atom with the element, formal charge and atom-map number of `atom`."""
    new = Chem.Atom(atom.GetSymbol())
    new.SetFormalCharge(atom.GetFormalCharge())
    new.SetAtomMapNum(atom.GetAtomMapNum())
    return new


def editable_copy(mol: Chem.Mol) -> Chem.RWMol:
    """An editable copy holding only elements, charges, map numbers and bond orders."""
    out = Chem.RWMol(Chem.Mol())
    for atom in mol.GetAtoms():
        out.AddAtom(copy_atom(atom))
    for bond in mol.GetBonds():
        out.AddBond(bond.GetBeginAtomIdx(), bond.GetEndAtomIdx(), bond.GetBondType())
    return out


def fragment_mol(mol: Chem.Mol, atoms: list[int]) -> Chem.Mol | None:
    """The sub-molecule of kekulé `mol` induced by `atoms`, sanitised (None if it cannot be)."""
    found = fragment_with_origin(mol, atoms)
    return None if found is None else found[0]


def fragment_with_origin(mol: Chem.Mol, atoms: list[int]) -> tuple[Chem.Mol, tuple[int, ...]] | None:
    """`fragment_mol` and, for each atom of the fragment, the index of the atom of `mol` it is.

    The fragment goes through two SMILES round trips (cut out, then canonical kekulé form); RDKit
    records the atom order of each SMILES it writes (``_smilesAtomOutputOrder``), which gives
    the exact correspondence, symmetric clusters included.
    """
    smiles = Chem.MolFragmentToSmiles(mol, atoms, kekuleSmiles=True)
    first = _output_order(mol)
    with rdkit_quiet():
        raw = Chem.MolFromSmiles(smiles, sanitize=False)
        if raw is None:
            return None
        plain = editable_copy(raw).GetMol()
        try:
            text = kekule_smiles(plain)
        except Exception:
            return None
        second = _output_order(plain)
        frag = kekule_mol(text)
    if frag is None:
        return None
    return frag, tuple(first[i] for i in second)


def _output_order(mol: Chem.Mol) -> list[int]:
    """Atom indices of `mol` in the order of the SMILES last written from it."""
    text = mol.GetProp("_smilesAtomOutputOrder")
    return [int(x) for x in text.strip("[]").split(",") if x.strip()]


def set_atom_map(mol: Chem.Mol, number: int = 0) -> None:
    """Set every atom's map number of `mol` to `number` (0 clears them)."""
    for atom in mol.GetAtoms():
        atom.SetAtomMapNum(number)

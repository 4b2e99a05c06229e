"""RDKit helpers shared by the decomposition and the assembly: parsing, kekulé copies, sanitising.

Every molecule inside the package is handled in kekulé form (explicit single/double bonds, no
aromatic flags) so that fragments cut out of an aromatic ring can be re-joined bond by bond;
aromaticity is re-perceived by RDKit when a finished molecule is sanitised.
"""

from __future__ import annotations

from rdkit import Chem, RDLogger

from core.errors import InputError

__all__ = [
    "canonical_smiles",
    "copy_atom",
    "editable_copy",
    "fragment_mol",
    "kekule_mol",
    "kekule_smiles",
    "parse_smiles",
    "sanitized",
    "set_atom_map",
]

RDLogger.DisableLog("rdApp.*")


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
    mol = Chem.MolFromSmiles(text, sanitize=False)
    if mol is None:
        raise InputError("SMILES does not parse (RDKit: syntax error)", item=_located(text, where))
    try:
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
    return mol


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
    smiles = Chem.MolFragmentToSmiles(mol, atoms, kekuleSmiles=True)
    raw = Chem.MolFromSmiles(smiles, sanitize=False)
    if raw is None:
        return None
    return sanitized(editable_copy(raw).GetMol())


def set_atom_map(mol: Chem.Mol, number: int = 0) -> None:
    """Set every atom's map number of `mol` to `number` (0 clears them)."""
    for atom in mol.GetAtoms():
        atom.SetAtomMapNum(number)

"""Stereochemistry after 2D assembly (Jin et al. 2018, end of Sec. 2.4).

The junction tree, the vocabulary and the assembly work on the stereo-free graph. Stereo is put
back at the end: the stereoisomers of the assembled molecule are enumerated (RDKit
``EnumerateStereoisomers`` over the stereocentres and stereo double bonds that molecule has, at
most `max_isomers` of them) and one is chosen: the one equal to the input for the ground-truth
round trip, the best scoring against the graph latent ``z_G`` when decoding (`JTVAE`).

The candidate list starts with the molecule with its stereo left unassigned, so a molecule given
without stereo (the MOSES convention) stays a possible answer; a molecule with no stereo element
has that one candidate only.
"""

from __future__ import annotations

from rdkit import Chem
from rdkit.Chem.EnumerateStereoisomers import EnumerateStereoisomers, StereoEnumerationOptions

from molgraph.config import MAX_STEREOISOMERS

__all__ = ["MAX_STEREOISOMERS", "choose_stereo", "has_stereo", "stereo_candidates"]

_SEED = 0xF00D  # RDKit draws a random subset when a molecule has more isomers than the cap


def has_stereo(smiles: str) -> bool:
    """Whether a SMILES specifies any tetrahedral or double-bond stereo."""
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return False
    if any(a.GetChiralTag() != Chem.ChiralType.CHI_UNSPECIFIED for a in mol.GetAtoms()):
        return True
    return any(b.GetStereo() != Chem.BondStereo.STEREONONE for b in mol.GetBonds())


def stereo_candidates(mol: Chem.Mol | str, max_isomers: int = MAX_STEREOISOMERS) -> list[str]:
    """Canonical isomeric SMILES of the stereo-free form of `mol` followed by its stereoisomers.

    Args:
        mol: a sanitised molecule or SMILES (any stereo it carries is ignored).
        max_isomers: cap on the enumerated isomers; above it RDKit returns a seeded random subset.

    Returns:
        Distinct SMILES, the stereo-free one first; just that one when `mol` has no stereo element.
    """
    text = mol if isinstance(mol, str) else Chem.MolToSmiles(mol)
    flat = Chem.MolFromSmiles(text)
    if flat is None:
        raise ValueError(f"not a valid molecule: {text}")
    Chem.RemoveStereochemistry(flat)
    base = Chem.MolToSmiles(flat)
    out = [base]
    if max_isomers < 1:
        return out
    options = StereoEnumerationOptions(
        onlyUnassigned=True, unique=True, maxIsomers=max_isomers, tryEmbedding=False, rand=_SEED
    )
    for isomer in EnumerateStereoisomers(Chem.MolFromSmiles(base), options=options):
        again = Chem.MolFromSmiles(Chem.MolToSmiles(isomer))  # canonical stereo perception
        if again is None:
            continue
        smiles = Chem.MolToSmiles(again)
        if smiles not in out:
            out.append(smiles)
    return out


def choose_stereo(candidates: list[str], target: str) -> str | None:
    """The candidate equal to the canonical isomeric SMILES `target`, or None when none is."""
    return target if target in candidates else None

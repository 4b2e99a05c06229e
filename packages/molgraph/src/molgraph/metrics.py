"""Generation and optimisation metrics (Jin et al. 2018, Sec. 3).

* validity / uniqueness / novelty of generated SMILES (the MOSES definitions: validity over all
  attempts, uniqueness over valid ones, novelty over unique valid ones absent from training);
  molecules are compared by canonical SMILES without stereo, so stereoisomers count as one.
* `penalized_logp`: ``logP - SA - ring_penalty`` with ``ring_penalty = max(0, largest ring - 6)``,
  unnormalised, the target of the paper's constrained optimisation (Sec. 3.3); SA is Ertl and
  Schuffenhauer's synthetic accessibility score (RDKit Contrib).
* `tanimoto`: Tanimoto similarity of Morgan fingerprints (radius 2, 2048 bits), the paper's sim(m, m').
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable, Sequence
from functools import cache
from types import ModuleType

from rdkit import Chem, DataStructs
from rdkit.Chem import Descriptors, RDConfig, rdFingerprintGenerator

from molgraph.chem import parse_smiles, rdkit_quiet

__all__ = [
    "canonical_or_none",
    "novelty",
    "penalized_logp",
    "ring_penalty",
    "tanimoto",
    "uniqueness",
    "validity",
]

_MORGAN = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)


@rdkit_quiet()
def canonical_or_none(smiles: str | None, isomeric: bool = False) -> str | None:
    """RDKit canonical SMILES of `smiles` (stereo kept when `isomeric`), None when it is not a molecule."""
    if not smiles:
        return None
    mol = Chem.MolFromSmiles(smiles)
    return None if mol is None else Chem.MolToSmiles(mol, isomericSmiles=isomeric)


def validity(generated: Sequence[str | None]) -> float:
    """Fraction of attempts that gave a SMILES RDKit parses and sanitises (None counts as invalid)."""
    if not generated:
        return float("nan")
    return sum(canonical_or_none(s) is not None for s in generated) / len(generated)


def uniqueness(generated: Sequence[str | None]) -> float:
    """Distinct canonical SMILES over valid ones."""
    valid = [c for c in map(canonical_or_none, generated) if c is not None]
    return len(set(valid)) / len(valid) if valid else float("nan")


def novelty(generated: Sequence[str | None], training: Iterable[str]) -> float:
    """Fraction of the unique valid molecules not in `training` (compared as canonical SMILES)."""
    unique = {c for c in map(canonical_or_none, generated) if c is not None}
    if not unique:
        return float("nan")
    seen = {c for c in map(canonical_or_none, training) if c is not None}
    return len(unique - seen) / len(unique)


@cache
def _sascorer() -> ModuleType:
    """RDKit Contrib's ``SA_Score/sascorer.py``, loaded from its file (``sys.path`` is not touched)."""
    path = os.path.join(RDConfig.RDContribDir, "SA_Score", "sascorer.py")
    spec = importlib.util.spec_from_file_location("molgraph._sascorer", path)
    if spec is None or spec.loader is None or not os.path.isfile(path):
        raise ImportError(f"RDKit Contrib SA_Score not found at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ring_penalty(mol: Chem.Mol) -> int:
    """``max(0, size of the largest SSSR ring - 6)``."""
    sizes = [len(ring) for ring in mol.GetRingInfo().AtomRings()]
    return max(0, max(sizes, default=0) - 6)


def penalized_logp(smiles: str | Chem.Mol) -> float:
    """Crippen logP minus SA score minus the ring penalty (unnormalised).

    Raises:
        InputError: naming the SMILES when it is invalid.
    """
    mol = parse_smiles(smiles) if isinstance(smiles, str) else smiles
    return Descriptors.MolLogP(mol) - _sascorer().calculateScore(mol) - ring_penalty(mol)


def tanimoto(a: str | Chem.Mol, b: str | Chem.Mol) -> float:
    """Tanimoto similarity of Morgan fingerprints (radius 2, 2048 bits) of two molecules."""
    ma = parse_smiles(a) if isinstance(a, str) else a
    mb = parse_smiles(b) if isinstance(b, str) else b
    return DataStructs.TanimotoSimilarity(_MORGAN.GetFingerprint(ma), _MORGAN.GetFingerprint(mb))

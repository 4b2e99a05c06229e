"""The MOSES distribution metrics (Polykovskiy et al. 2020, Sec. 4) of generated molecules.

Written after the definitions of the MOSES benchmark (molsets 0.3.1, ``moses/metrics``), so the
numbers sit beside its published rows (JTN-VAE: unique@10k 0.9996, novelty 0.914, FCD/Test 0.395):

* ``unique@k``: share of distinct canonical SMILES among the first `k` valid molecules.
* ``IntDiv_p``: ``1 - mean_i (mean_j T(i, j)^p)^(1/p)`` over all ordered pairs of valid generated
  molecules (self-pairs included, as MOSES does), ``T`` the Tanimoto similarity of Morgan
  fingerprints (radius 2, 1024 bits).
* ``SNN``: mean over generated molecules of the Tanimoto similarity to the nearest reference molecule.
* ``Frag``: cosine similarity of the counts of BRICS fragments (``FragmentOnBRICSBonds``, the pieces
  of the fragmented SMILES) in the generated and the reference set.
* ``Scaf``: cosine similarity of the counts of Bemis-Murcko scaffolds with at least two rings.
* ``FCD``: Fréchet ChemNet Distance between the generated and the reference set, computed by the
  ``fcd`` package (Preuer et al. 2018; its ChemNet weights ship inside the package, no download).

Every metric is over the valid generated molecules only (validity itself is in `molgraph.metrics`);
molecules are compared as canonical SMILES without stereo.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cache

import numpy as np
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator
from rdkit.Chem.AllChem import FragmentOnBRICSBonds
from rdkit.Chem.Scaffolds import MurckoScaffold

from core.errors import InputError
from molgraph.chem import rdkit_quiet
from molgraph.metrics import canonical_or_none, novelty, validity

__all__ = [
    "fcd",
    "fragment_similarity",
    "internal_diversity",
    "moses_metrics",
    "scaffold_similarity",
    "snn",
    "unique_at",
]

_MORGAN_1024 = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)


def _valid(smiles: Iterable[str | None]) -> list[str]:
    """Canonical stereo-free SMILES of the valid entries, in order."""
    return [c for c in (canonical_or_none(s) for s in smiles) if c is not None]


def _fingerprints(smiles: Sequence[str]) -> list:
    return [_MORGAN_1024.GetFingerprint(Chem.MolFromSmiles(s)) for s in smiles]


def unique_at(generated: Sequence[str | None], k: int) -> float:
    """Share of distinct molecules among the first `k` valid ones (all valid ones when fewer)."""
    valid = _valid(generated)[:k]
    if not valid:
        raise InputError("no valid molecule among the generated ones")
    return len(set(valid)) / len(valid)


def internal_diversity(generated: Sequence[str | None], p: int = 1) -> float:
    """MOSES ``IntDiv_p`` of the valid generated molecules (0: all identical)."""
    fps = _fingerprints(_valid(generated))
    if not fps:
        raise InputError("no valid molecule among the generated ones")
    rows = [np.asarray(DataStructs.BulkTanimotoSimilarity(fp, fps)) for fp in fps]
    return 1.0 - float(np.mean([np.mean(row**p) ** (1.0 / p) for row in rows]))


def snn(generated: Sequence[str | None], reference: Sequence[str]) -> float:
    """Mean Tanimoto similarity of each valid generated molecule to its nearest reference molecule."""
    gen, ref = _fingerprints(_valid(generated)), _fingerprints(_valid(reference))
    if not gen or not ref:
        raise InputError("snn needs valid generated and reference molecules")
    return float(np.mean([max(DataStructs.BulkTanimotoSimilarity(fp, ref)) for fp in gen]))


def _cosine(a: Counter, b: Counter) -> float:
    if not a or not b:
        return float("nan")
    keys = sorted(set(a) | set(b))
    u = np.array([a.get(k, 0) for k in keys], dtype=float)
    v = np.array([b.get(k, 0) for k in keys], dtype=float)
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))


@rdkit_quiet()
def _fragments(smiles: str) -> list[str]:
    return Chem.MolToSmiles(FragmentOnBRICSBonds(Chem.MolFromSmiles(smiles))).split(".")


@rdkit_quiet()
def _scaffold(smiles: str, min_rings: int = 2) -> str | None:
    try:
        scaffold = MurckoScaffold.GetScaffoldForMol(Chem.MolFromSmiles(smiles))
    except (ValueError, RuntimeError):
        return None
    text = Chem.MolToSmiles(scaffold)
    if not text or scaffold.GetRingInfo().NumRings() < min_rings:
        return None
    return text


def fragment_similarity(generated: Sequence[str | None], reference: Sequence[str]) -> float:
    """MOSES ``Frag``: cosine similarity of BRICS fragment counts (1: same distribution)."""
    count = lambda smiles: Counter(f for s in _valid(smiles) for f in _fragments(s))  # noqa: E731
    return _cosine(count(generated), count(reference))


def scaffold_similarity(generated: Sequence[str | None], reference: Sequence[str]) -> float:
    """MOSES ``Scaf``: cosine similarity of Bemis-Murcko scaffold counts (scaffolds of >= 2 rings)."""

    def count(smiles: Iterable[str | None]) -> Counter:
        return Counter(s for s in map(_scaffold, _valid(smiles)) if s is not None)

    return _cosine(count(generated), count(reference))


@cache
def _chemnet():  # type: ignore[no-untyped-def]
    import fcd as fcd_package  # lazy: loads torch and the ChemNet weights shipped in the package

    return fcd_package.load_ref_model()


def fcd(generated: Sequence[str | None], reference: Sequence[str]) -> float:
    """Fréchet ChemNet Distance (``fcd.get_fcd``) between the valid generated and the reference molecules.

    The same computation as ``fcd.get_fcd`` (ChemNet activations, their means and covariances,
    ``fcd.calculate_frechet_distance``) with ChemNet loaded once per process and its activations
    computed in this process (``n_jobs=0``): ``get_fcd`` starts a DataLoader worker process for
    every set, measured 37.7 s against about 4 s for this test file's FCD test in the suite. The
    ``fcd`` package's own deprecation warnings (NumPy ``row_stack``, SciPy ``sqrtm(disp=...)``)
    are silenced inside the call only.
    """
    import fcd as fcd_package

    gen, ref = _valid(generated), _valid(reference)
    if len(gen) < 2 or len(ref) < 2:
        raise InputError("FCD needs at least two valid molecules on each side", item=(len(gen), len(ref)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        stats = []
        for smiles in (gen, ref):
            act = fcd_package.get_predictions(_chemnet(), smiles, n_jobs=0, device="cpu")
            stats.append((act.mean(axis=0), np.cov(act.T)))
        (mu1, sigma1), (mu2, sigma2) = stats
        return float(fcd_package.calculate_frechet_distance(mu1=mu1, sigma1=sigma1, mu2=mu2, sigma2=sigma2))


def moses_metrics(
    generated: Sequence[str | None],
    reference: Sequence[str],
    training: Sequence[str] = (),
    *,
    with_fcd: bool = True,
) -> dict[str, float]:
    """The MOSES table for `generated` (None = a failed decoding) against `reference` (the test set).

    Keys: validity, unique@1k, unique@10k, novelty (against `training`, NaN without it),
    IntDiv1, IntDiv2, SNN, Frag, Scaf and, with `with_fcd`, FCD.
    """
    out = {
        "validity": validity(generated),
        "unique@1k": unique_at(generated, 1000),
        "unique@10k": unique_at(generated, 10_000),
        "novelty": novelty(generated, training) if training else float("nan"),
        "IntDiv1": internal_diversity(generated, 1),
        "IntDiv2": internal_diversity(generated, 2),
        "SNN": snn(generated, reference),
        "Frag": fragment_similarity(generated, reference),
        "Scaf": scaffold_similarity(generated, reference),
    }
    if with_fcd:
        out["FCD"] = fcd(generated, reference)
    return out

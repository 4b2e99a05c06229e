"""The paper's generation metrics for a trained model (Jin et al. 2018, Sec. 3.1).

Reconstruction: each test molecule is encoded `encodings` times (posterior draws) and every draw
decoded `decodings` times; the score is the fraction of decodings whose SMILES equals the input
(the paper: 10 x 10 on 5000 ZINC test molecules, 76.7%). Molecules are compared, not strings: both
sides are RDKit canonical SMILES (isomeric, so stereo counts, unless ``isomeric=False``), whatever
spelling the input used. Greedy decoding of one draw is
deterministic, so with greedy decoding the `decodings` of one draw are fresh posterior draws too.
Prior: `n` latents from N(0, I), decoded once each, scored by validity, uniqueness and novelty.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.errors import InputError
from core.progress import progress
from molgraph.chem import canonical_smiles
from molgraph.metrics import canonical_or_none, novelty, uniqueness, validity
from molgraph.model import JTVAE

__all__ = ["prior_quality", "prior_quality_of", "reconstruction_accuracy"]


def reconstruction_accuracy(
    model: JTVAE,
    smiles: Sequence[str],
    *,
    encodings: int = 10,
    decodings: int = 10,
    seed: int = 0,
    mean: bool = False,
    isomeric: bool = True,
) -> float:
    """Fraction of ``encodings x decodings`` decodings per molecule that return the input molecule.

    Args:
        model: a trained `JTVAE`.
        smiles: SMILES (any valid spelling) of molecules whose clusters are in the model's vocabulary.
        encodings, decodings: draws per molecule (the paper's 10 x 10).
        seed: seeds the posterior draws.
        mean: decode the posterior mean once instead (a deterministic, cheaper variant).
        isomeric: compare with stereo (canonical isomeric SMILES); False compares constitutions.

    Raises:
        InputError: naming a SMILES that is not a valid molecule.
    """
    if not smiles:
        raise InputError("no molecules to reconstruct")
    if encodings < 1 or decodings < 1:
        raise InputError("encodings and decodings must be >= 1", item=(encodings, decodings))
    items = list(smiles)
    targets = [canonical_smiles(s, isomeric=isomeric) for s in items]
    rounds = 1 if mean else encodings * decodings
    hits = 0
    for i in progress(range(rounds), desc="reconstruction"):
        z = model.encode(items, sample=not mean, seed=seed * 1000 + i)
        decoded = [canonical_or_none(d, isomeric) for d in model.decode(z)]
        hits += sum(d == target for d, target in zip(decoded, targets))
    return hits / (rounds * len(items))


def prior_quality(model: JTVAE, n: int, training: Sequence[str] = (), *, seed: int = 0) -> dict[str, float]:
    """Validity, uniqueness and novelty (against `training`; NaN without it) of `n` prior samples."""
    return prior_quality_of(model.sample(n, seed=seed), training)


def prior_quality_of(samples: Sequence[str | None], training: Sequence[str] = ()) -> dict[str, float]:
    """Validity, uniqueness and novelty (against `training`; NaN without it) of decoded `samples`."""
    return {
        "validity": validity(samples),
        "uniqueness": uniqueness(samples),
        "novelty": novelty(samples, training) if training else float("nan"),
    }

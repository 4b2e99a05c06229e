"""MOSES metrics against hand counts and a brute-force Tanimoto on fingerprint bit sets."""

from __future__ import annotations

import math

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator

from core.errors import InputError
from molgraph import bundled_smiles
from molgraph.moses_metrics import (
    fcd,
    fragment_similarity,
    internal_diversity,
    moses_metrics,
    scaffold_similarity,
    snn,
    unique_at,
)

MOLECULES = ["CC(=O)Nc1ccc(O)cc1", "c1ccc2ccccc2c1", "CCOC(=O)c1ccccc1N", "O=C(O)c1ccc2[nH]ccc2c1"]


def _bits(smiles: str) -> set[int]:
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)
    return set(generator.GetFingerprint(Chem.MolFromSmiles(smiles)).GetOnBits())


def _tanimoto(a: str, b: str) -> float:
    x, y = _bits(a), _bits(b)
    return len(x & y) / len(x | y)


def test_unique_at_counts_distinct_molecules_among_the_first_k_valid():
    generated = ["CCO", None, "OCC", "CCN", "not a smiles", "CCC"]
    assert unique_at(generated, 2) == pytest.approx(1 / 2)  # CCO and OCC are one molecule
    assert unique_at(generated, 1000) == pytest.approx(3 / 4)
    with pytest.raises(InputError):
        unique_at([None], 10)


def test_internal_diversity_and_snn_equal_brute_force():
    pairs = np.array([[_tanimoto(a, b) for b in MOLECULES] for a in MOLECULES])
    assert internal_diversity(MOLECULES, 1) == pytest.approx(1 - pairs.mean())
    assert internal_diversity(MOLECULES, 2) == pytest.approx(1 - np.mean(np.sqrt((pairs**2).mean(1))))
    assert internal_diversity(["CCO", "OCC"]) == pytest.approx(0.0)
    generated, reference = MOLECULES[:2], MOLECULES[2:]
    nearest = [max(_tanimoto(g, r) for r in reference) for g in generated]
    assert snn(generated, reference) == pytest.approx(np.mean(nearest))
    assert snn(MOLECULES[:2], MOLECULES) == pytest.approx(1.0)


def test_fragment_and_scaffold_similarity_by_hand():
    assert fragment_similarity(MOLECULES, MOLECULES) == pytest.approx(1.0)
    assert fragment_similarity(["CCCC"], ["c1ccccc1"]) == pytest.approx(0.0)  # no BRICS bond: one piece each
    # Scaffolds with >= 2 rings: naphthalene and indole count, the one-ring scaffolds do not.
    assert scaffold_similarity(MOLECULES, ["c1ccc2ccccc2c1"]) == pytest.approx(1 / math.sqrt(2))
    assert math.isnan(scaffold_similarity(["CCO"], MOLECULES))


def test_fcd_is_zero_for_one_set_and_grows_with_the_difference():
    train = bundled_smiles("train")[:40]
    same = fcd(train, train)
    other = fcd(train, bundled_smiles("test")[:40])
    small = fcd(train, ["C" * n for n in range(2, 40)])  # alkane chains: far from drug-like molecules
    assert abs(same) < 1e-3 < other < small
    table = moses_metrics([*train, None], bundled_smiles("test")[:40], train[:20], with_fcd=False)
    assert table["validity"] == pytest.approx(40 / 41) and table["novelty"] == pytest.approx(20 / 40)
    assert "FCD" not in table and 0 < table["IntDiv1"] < 1

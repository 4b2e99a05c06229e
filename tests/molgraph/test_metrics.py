"""Metrics against hand counts, a set-based Tanimoto and RDKit's own descriptors."""

from __future__ import annotations

import math

import pytest
from rdkit import Chem
from rdkit.Chem import Crippen, rdFingerprintGenerator

from core.errors import InputError
from molgraph import novelty, penalized_logp, tanimoto, uniqueness, validity
from molgraph.metrics import ring_penalty


def test_validity_uniqueness_novelty_by_hand():
    generated = ["CCO", "OCC", "c1ccccc1", None, "C1CC", "CCN"]
    assert validity(generated) == pytest.approx(4 / 6)
    assert uniqueness(generated) == pytest.approx(3 / 4)  # CCO and OCC are one molecule
    assert novelty(generated, ["CCO", "C(N)C"]) == pytest.approx(1 / 3)
    assert math.isnan(uniqueness([None]))


def test_tanimoto_matches_bit_set_formula():
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    a, b = "CC(=O)Nc1ccc(O)cc1", "CC(=O)Nc1ccccc1"
    bits_a = set(generator.GetFingerprint(Chem.MolFromSmiles(a)).GetOnBits())
    bits_b = set(generator.GetFingerprint(Chem.MolFromSmiles(b)).GetOnBits())
    assert tanimoto(a, b) == pytest.approx(len(bits_a & bits_b) / len(bits_a | bits_b))
    assert tanimoto(a, a) == 1.0


def test_ring_penalty_and_penalised_logp():
    assert ring_penalty(Chem.MolFromSmiles("C1CCCCCCC1")) == 2
    assert ring_penalty(Chem.MolFromSmiles("c1ccccc1")) == 0
    # cyclooctane vs cyclohexane: two more CH2 (Crippen contributions) and the ring penalty of 2
    diff = penalized_logp("C1CCCCCCC1") - penalized_logp("C1CCCCC1")
    logp_diff = Crippen.MolLogP(Chem.MolFromSmiles("C1CCCCCCC1")) - Crippen.MolLogP(
        Chem.MolFromSmiles("C1CCCCC1")
    )
    from molgraph.metrics import _sascorer

    sascorer = _sascorer()  # RDKit Contrib's module, loaded from its file

    sa_diff = sascorer.calculateScore(Chem.MolFromSmiles("C1CCCCCCC1")) - sascorer.calculateScore(
        Chem.MolFromSmiles("C1CCCCC1")
    )
    assert diff == pytest.approx(logp_diff - sa_diff - 2)
    # SA scores lie in [1, 10]: an easy molecule's penalised logP stays within logP - 10 .. logP - 1
    logp = Crippen.MolLogP(Chem.MolFromSmiles("CCO"))
    assert logp - 10 <= penalized_logp("CCO") <= logp - 1
    with pytest.raises(InputError, match="C1CC"):
        penalized_logp("C1CC")


def test_sa_score_is_loaded_without_touching_sys_path():
    import sys

    from molgraph.metrics import _sascorer

    before = list(sys.path)
    assert 1.0 <= _sascorer().calculateScore(Chem.MolFromSmiles("CCO")) <= 10.0
    assert sys.path == before and "sascorer" not in sys.modules

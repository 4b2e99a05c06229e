"""Peri-fused ring systems: the paper's decomposition cannot rebuild them; ``merge_peri_fused`` can."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import InputError
from molgraph import JunctionTree, Vocab, prepare, read_records
from molgraph.assembly import round_trip
from molgraph.cli import main
from molgraph.tree import tree_decompose

# MOSES test molecules (the 7 of the first 1000 that fail with the paper's decomposition include these)
NAPHTHALIMIDE = "O=C1Nc2ccc(S(=O)(=O)N3CCOCC3)c3cccc1c23"  # benz[cd]indol-2-one
SULTAM = "C#CC(C)(CC)NC(=O)CN1c2cccc3cccc(c23)S1(=O)=O"
AZAPHENALENE = "O=C1c2ccccc2-c2c3c(cc4ccnc1c24)OCO3"


@pytest.mark.parametrize("smiles", [NAPHTHALIMIDE, SULTAM, AZAPHENALENE])
def test_the_merged_decomposition_rebuilds_peri_fused_molecules_exactly(smiles):
    paper = round_trip(JunctionTree(smiles))
    assert paper.smiles is None and paper.reason == "ring system not assemblable"
    tree = JunctionTree(smiles, merge_peri_fused=True)
    assert round_trip(tree).smiles == tree.smiles


def test_merging_makes_one_cluster_of_the_rings_around_the_shared_atom():
    from rdkit import Chem

    mol = Chem.MolFromSmiles("C1Cc2cccc3cccc1c23")  # acenaphthene: one atom is in all three rings
    paper, _ = tree_decompose(mol)
    merged, edges = tree_decompose(mol, merge_peri_fused=True)
    assert sorted(len(c) for c in paper) == [1, 5, 6, 6]  # three rings around a singleton
    assert merged == [list(range(mol.GetNumAtoms()))] and edges == []
    # molecules without such an atom decompose exactly as in the paper
    for smiles in ["c1ccc2ccccc2c1", "C1CC2CCC1C2", "CC(=O)Nc1ccccc1"]:
        m = Chem.MolFromSmiles(smiles)
        assert tree_decompose(m) == tree_decompose(m, merge_peri_fused=True)


def test_the_vocabulary_carries_its_decomposition(tmp_path):
    vocab = Vocab.from_smiles([NAPHTHALIMIDE, "CCO"], merge_peri_fused=True)
    loaded = Vocab.load(vocab.save(tmp_path / "v.json"))
    assert loaded.merge_peri_fused and loaded.clusters == vocab.clusters
    paper = Vocab.from_smiles(["CCO"])
    assert json.loads(paper.save(tmp_path / "p.json").read_text()) == ["CC", "CO"]  # the old format
    assert not Vocab.load(tmp_path / "p.json").merge_peri_fused
    with pytest.raises(InputError, match="different decompositions"):
        vocab.assign(JunctionTree("CCO"))
    prepared = prepare([NAPHTHALIMIDE], vocab)  # ground-truth labels exist for every node
    assert len(prepared.samples) == 1 and not prepared.dropped


def test_cli_option(tmp_path, capsys):
    assert main(["decompose", "--merge-peri-fused", "C1Cc2cccc3cccc1c23"]) == 0
    assert len(json.loads(capsys.readouterr().out)["clusters"]) == 1
    source = tmp_path / "m.smi"
    source.write_text(f"{NAPHTHALIMIDE}\nCCO\n")
    assert main(["vocab", str(source), "--merge-peri-fused", "--out", str(tmp_path / "v")]) == 0
    assert json.loads((tmp_path / "v" / "vocab.json").read_text())["merge_peri_fused"] is True


def test_explicit_hydrogens_do_not_change_the_molecule():
    # a MOSES test line: the round trip compared "[H]N=..." with the assembled "N=..." and said
    # "different molecule"
    tree = JunctionTree("[H]N=C1NC(=Nc2cccc(Cl)c2)NC(C)(C)N1")
    assert tree.smiles2d == "CC1(C)NC(=N)NC(=Nc2cccc(Cl)c2)N1"
    assert round_trip(tree).smiles == tree.smiles
    fixed_by_h = round_trip(JunctionTree("[H]/N=C(/C)N"))  # its stereo needs the explicit H
    assert fixed_by_h.smiles is None and fixed_by_h.reason == "stereo not enumerable"


def test_round_trip_command_counts_outcomes(tmp_path, capsys):
    source = tmp_path / "m.smi"
    source.write_text(f"{NAPHTHALIMIDE}\nCCO\nnot_a_smiles\n")
    assert main(["round-trip", str(source)]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["exact"] == 1 and summary["ring system not assemblable"] == 1
    assert summary["invalid SMILES"] == 1 and f"{source} line 1" in captured.err
    assert main(["round-trip", str(source), "--merge-peri-fused"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["exact"] == 2


DRUG_PANEL = Path(__file__).parent / "data" / "drug_panel.smi"


def test_a_drug_panel_round_trips_exactly_with_the_merged_decomposition():
    # 70 approved drugs (SMILES written here from their structures, stereo left out): morphinans,
    # ergolines, phenothiazines, tricyclics, steroids, beta-lactams, macrolides, ciclosporin
    records = read_records(DRUG_PANEL)
    assert len(records) == 70
    reasons = {}
    for record in records:
        tree = JunctionTree(record.smiles, merge_peri_fused=True)
        result = round_trip(tree)
        assert result.smiles == tree.smiles, (record.id, result)
        reasons[record.id] = round_trip(JunctionTree(record.smiles)).reason
    # the paper's decomposition fails exactly the peri-fused ones, each with its reason, never wrongly
    failed = {name for name, reason in reasons.items() if reason is not None}
    assert set(reasons.values()) == {None, "ring system not assemblable"}
    assert {"morphine", "codeine", "oxycodone", "naltrexone", "lysergide", "pergolide"} <= failed
    assert len(failed) == 9 and "estradiol" not in failed and "chlorpromazine" not in failed

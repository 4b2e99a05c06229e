"""Stereochemistry: kept at the input, recovered by the ground-truth round trip, chosen when decoding."""

from __future__ import annotations

import pytest
import torch
from rdkit import Chem

from molgraph import JTVAE, JTVAEConfig, JunctionTree, TrainConfig, Vocab, prepare, reassemble, train
from molgraph.batching import batch_graphs
from molgraph.chem import canonical_smiles, parse_smiles
from molgraph.graphs import mol_graph
from molgraph.stereo import MAX_STEREOISOMERS, choose_stereo, has_stereo, stereo_candidates

# Drugs with stereocentres and/or E/Z double bonds, written for this test (single enantiomers and
# geometric isomers as marketed or as their active form).
DRUGS = {
    "S-ibuprofen": "CC(C)Cc1ccc([C@H](C)C(=O)O)cc1",
    "S-naproxen": "C[C@H](C(=O)O)c1ccc2cc(OC)ccc2c1",
    "levodopa": "N[C@@H](Cc1ccc(O)c(O)c1)C(=O)O",
    "levalbuterol": "CC(C)(C)NC[C@H](O)c1ccc(O)c(CO)c1",
    "tamoxifen": "CC/C(=C(\\c1ccccc1)c1ccc(OCCN(C)C)cc1)c1ccccc1",
    "resveratrol": "Oc1ccc(/C=C/c2cc(O)cc(O)c2)cc1",
    "fluvoxamine": "COCCCC/C(=N\\OCCN)c1ccc(C(F)(F)F)cc1",
    "escitalopram": "CN(C)CCC[C@@]1(c2ccc(F)cc2)OCc2cc(C#N)ccc21",
    "ephedrine": "C[C@H](NC)[C@@H](O)c1ccccc1",
    "S-propranolol": "CC(C)NC[C@H](O)COc1cccc2ccccc12",
    "sertraline": "CN[C@H]1CC[C@@H](c2ccc(Cl)c(Cl)c2)c2ccccc21",
    "menthol": "CC(C)[C@@H]1CC[C@@H](C)C[C@H]1O",
    "captopril": "C[C@H](CS)C(=O)N1CCC[C@H]1C(=O)O",
    "cinnarizine": "C(=C/c1ccccc1)\\CN1CCN(C(c2ccccc2)c2ccccc2)CC1",
    "oseltamivir": "CCOC(=O)C1=C[C@@H](OC(CC)CC)[C@H](NC(C)=O)[C@@H](N)C1",
    "sitagliptin": "N[C@@H](CC(=O)N1CCn2c(nnc2C(F)(F)F)C1)Cc1cc(F)c(F)cc1F",
    "clopidogrel": "COC(=O)[C@H](c1ccccc1Cl)N1CCc2sccc2C1",
    "entacapone": "CCN(CC)C(=O)/C(C#N)=C/c1cc(O)c(O)c([N+](=O)[O-])c1",
    "testosterone": "C[C@]12CC[C@H]3[C@@H](CCC4=CC(=O)CC[C@@]43C)[C@@H]1CC[C@@H]2O",
}


def _isomeric(smiles: str) -> str:
    return Chem.MolToSmiles(Chem.MolFromSmiles(smiles))


def test_input_stereo_is_the_identity_and_clusters_are_stereo_free():
    for smiles in DRUGS.values():
        tree = JunctionTree(smiles)
        assert tree.smiles == _isomeric(smiles)
        assert has_stereo(tree.smiles)
        assert not has_stereo(tree.smiles2d)
        assert tree.smiles2d == Chem.MolToSmiles(Chem.MolFromSmiles(smiles), isomericSmiles=False)
        assert all(not has_stereo(node.smiles) for node in tree.nodes)
    vocab = Vocab.from_smiles(DRUGS.values())
    assert all("@" not in c and "/" not in c and "\\" not in c for c in vocab.clusters)


def test_parse_smiles_strips_stereo_unless_asked():
    smiles = DRUGS["ephedrine"]
    assert not has_stereo(Chem.MolToSmiles(parse_smiles(smiles)))
    assert Chem.MolToSmiles(parse_smiles(smiles, keep_stereo=True)) == _isomeric(smiles)
    assert canonical_smiles(smiles) == Chem.MolToSmiles(Chem.MolFromSmiles(smiles), isomericSmiles=False)
    assert canonical_smiles(smiles, isomeric=True) == _isomeric(smiles)


def test_ground_truth_round_trip_recovers_the_input_stereoisomer():
    # escitalopram and testosterone used to come back as positional isomers (nitrile on the other
    # ring carbon; angular methyl moved) before the assembly followed the input's atom map
    failed = [
        name
        for name, smiles in DRUGS.items()
        if reassemble(JunctionTree(smiles), max_isomers=64) != JunctionTree(smiles).smiles  # 2^6 isomers
    ]
    assert failed == []


def test_ground_truth_round_trip_without_stereo_is_unchanged():
    smiles = "CN(C(=O)CCCc1ccccn1)C1CCc2ccccc2C1"  # a MOSES molecule: one unassigned stereocentre
    tree = JunctionTree(smiles)
    assert tree.smiles == tree.smiles2d == _isomeric(smiles)
    assert reassemble(tree) == tree.smiles


def test_stereo_candidates_are_the_flat_form_then_the_isomers_capped():
    assert stereo_candidates("c1ccccc1CCO") == ["OCCc1ccccc1"]  # no stereo element: one candidate
    for name, elements in (("S-ibuprofen", 1), ("tamoxifen", 1), ("ephedrine", 2), ("menthol", 3)):
        flat = JunctionTree(DRUGS[name]).smiles2d
        candidates = stereo_candidates(DRUGS[name])  # its own stereo is ignored
        assert candidates[0] == flat
        assert len(candidates) == 1 + 2**elements == len(set(candidates))
        assert _isomeric(DRUGS[name]) in candidates
        for smiles in candidates:
            assert Chem.MolFromSmiles(smiles) is not None
            assert Chem.MolToSmiles(Chem.MolFromSmiles(smiles), isomericSmiles=False) == flat
    assert len(stereo_candidates(DRUGS["testosterone"])) == 1 + MAX_STEREOISOMERS
    assert len(stereo_candidates(DRUGS["testosterone"], max_isomers=4)) == 5
    assert stereo_candidates(DRUGS["menthol"], max_isomers=0) == [JunctionTree(DRUGS["menthol"]).smiles2d]
    assert choose_stereo(["CC", "C[C@H](N)O"], "C[C@@H](N)O") is None


def _features(smiles: str) -> tuple[torch.Tensor, torch.Tensor]:
    graph = mol_graph(Chem.MolFromSmiles(smiles))
    return torch.from_numpy(graph.x), torch.from_numpy(graph.bond)


def test_graph_features_tell_enantiomers_and_geometric_isomers_apart():
    (r_x, r_bond), (s_x, s_bond), (flat_x, _) = map(_features, ("C[C@H](N)O", "C[C@@H](N)O", "CC(N)O"))
    assert torch.equal(r_bond, s_bond) and not torch.equal(r_x, s_x)
    assert not torch.equal(r_x, flat_x) and not torch.equal(s_x, flat_x)
    (e_x, e_bond), (z_x, z_bond), (_, flat_bond) = map(_features, ("C/C=C/C", "C/C=C\\C", "CC=CC"))
    assert torch.equal(e_x, z_x) and not torch.equal(e_bond, z_bond)
    assert not torch.equal(e_bond, flat_bond) and not torch.equal(z_bond, flat_bond)


def _graph_mean(model, smiles: str) -> torch.Tensor:
    with torch.no_grad():
        return model.graph_mean(model.graph_encoder(batch_graphs([mol_graph(Chem.MolFromSmiles(smiles))])))[0]


@pytest.mark.parametrize("name", ["ephedrine", "menthol", "tamoxifen"])
def test_choose_stereoisomer_picks_the_isomer_the_latent_favours(tiny_model, name):
    model, _ = tiny_model
    mol = Chem.MolFromSmiles(JunctionTree(DRUGS[name]).smiles2d)
    candidates = stereo_candidates(mol)
    for target in candidates:
        z_graph = _graph_mean(model, target)  # a hand-made z_G: the encoding of one isomer
        scores = model.stereo_scores(candidates, z_graph)
        assert scores.shape == (len(candidates),)
        assert model.choose_stereoisomer(mol, z_graph) == target
        assert Chem.MolFromSmiles(target) is not None


def test_decoding_returns_the_stereoisomer_the_graph_latent_encodes(tiny_set, tiny_model):
    model, _ = tiny_model
    sample = next(s for s in tiny_set.samples if len(stereo_candidates(s.smiles)) > 1)
    half = model.config.latent // 2
    z = model.encode(sample.smiles)[0]
    decoded = []
    for isomer in stereo_candidates(sample.smiles):
        z_iso = torch.cat([z[:half], _graph_mean(model, isomer)])
        out = model.decode(z_iso)[0]
        assert out is not None and Chem.MolFromSmiles(out) is not None
        decoded.append(out)
    assert decoded == stereo_candidates(sample.smiles)


def test_training_teaches_the_stereo_choice_from_posterior_draws():
    # the 17 drugs of the measured run (escitalopram and testosterone were then not round-trippable)
    names = [name for name in DRUGS if name not in ("escitalopram", "testosterone")]
    data = prepare([DRUGS[name] for name in names], desc="stereo")
    assert len(data.samples) == len(names)
    assert all(s.stereo is not None and s.stereo[0] for s in data.samples)
    flat = [Chem.MolFromSmiles(JunctionTree(s.smiles).smiles2d) for s in data.samples]

    def correct_picks(model: JTVAE) -> int:
        z = model.encode([s.smiles for s in data.samples], sample=True, seed=1)
        half = model.config.latent // 2
        chosen = [model.choose_stereoisomer(mol, row[half:]) for mol, row in zip(flat, z)]
        return sum(c == s.smiles for c, s in zip(chosen, data.samples))

    config = JTVAEConfig(hidden=32, latent=8, depth_tree=3, depth_graph=3)
    untrained = correct_picks(JTVAE(data.vocab, config, seed=0))
    model = JTVAE(data.vocab, config, seed=0)
    schedule = TrainConfig(epochs=30, batch_size=len(names), lr=5e-3, lr_decay=1.0, beta_warmup=10**9)
    history = train(model, data.samples, schedule)
    assert history.rows[-1]["stereo_loss"] < 0.5 * history.rows[0]["stereo_loss"]
    trained = correct_picks(model)  # measured: 14 of 17 trained, 4 of 17 untrained
    assert trained >= untrained + 6 and trained >= 12

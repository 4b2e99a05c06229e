"""JT-VAE learning, decoding validity, persistence and resumable training."""

from __future__ import annotations

import math

import pytest
import torch
from rdkit import Chem

from core.errors import CheckpointMismatchError, InputError
from molgraph import (
    JTVAE,
    JTVAEConfig,
    TrainConfig,
    Vocab,
    novelty,
    prior_quality,
    reconstruction_accuracy,
    train,
    uniqueness,
    validity,
)
from molgraph.tree import dfs_trace


def test_dfs_trace_visits_every_edge_twice():
    edges = [(0, 1), (1, 2), (1, 3), (0, 4)]
    trace = dfs_trace(5, edges)
    assert len(trace) == 2 * len(edges)
    assert [t for t in trace if t[2] == 1] == [(0, 1, 1), (1, 2, 1), (1, 3, 1), (0, 4, 1)]
    assert sorted((a, b) for a, b, d in trace if d == 0) == [(1, 0), (2, 1), (3, 1), (4, 0)]


def test_tiny_model_overfits_to_exact_reconstruction(tiny_set, tiny_model):
    model, history = tiny_model
    first, last = history.rows[0], history.rows[-1]
    assert last["loss"] < 0.1 * first["loss"]
    reconstructed = model.reconstruct([s.smiles for s in tiny_set.samples])
    exact = sum(r == s.smiles for r, s in zip(reconstructed, tiny_set.samples))
    # trivial baseline: the same architecture untrained reconstructs none of them
    untrained = JTVAE(tiny_set.vocab, model.config, seed=1)
    baseline = sum(
        r == s.smiles
        for r, s in zip(untrained.reconstruct([s.smiles for s in tiny_set.samples]), tiny_set.samples)
    )
    assert exact >= len(tiny_set.samples) - 1
    assert exact >= baseline + 4


def test_every_sampled_molecule_sanitises(tiny_model):
    model, _ = tiny_model
    samples = model.sample(12, seed=3) + model.sample(4, seed=4, greedy=False)
    decoded = [s for s in samples if s is not None]
    assert len(decoded) >= 12
    for smiles in decoded:
        mol = Chem.MolFromSmiles(smiles)
        assert mol is not None
        Chem.SanitizeMol(mol)


def test_interpolation_endpoints_decode_to_the_inputs(tiny_set, tiny_model):
    model, _ = tiny_model
    a, b = tiny_set.samples[0].smiles, tiny_set.samples[1].smiles
    path = model.interpolate(a, b, steps=4)
    assert len(path) == 4
    assert path[0] == model.reconstruct(a)[0] and path[-1] == model.reconstruct(b)[0]


def test_save_and_load_give_the_same_encodings(tiny_set, tiny_model, tmp_path):
    model, _ = tiny_model
    path = model.save(tmp_path / "model.safetensors")
    loaded = JTVAE.load(path)
    smiles = [s.smiles for s in tiny_set.samples[:3]]
    assert torch.allclose(model.encode(smiles), loaded.encode(smiles))
    assert loaded.vocab.clusters == model.vocab.clusters


class _Crash(RuntimeError):
    """Raised by the callback to kill a training run mid-epoch."""


def test_training_resumes_from_its_checkpoint_exactly(tiny_set, tmp_path):
    config = JTVAEConfig(hidden=16, latent=4, depth_tree=3, depth_graph=2)
    samples = tiny_set.samples[:4]
    schedule = TrainConfig(epochs=3, batch_size=2, beta_warmup=1, beta_every=1)

    def fresh() -> JTVAE:
        return JTVAE(tiny_set.vocab, config, seed=0)

    straight = fresh()
    reference = train(straight, samples, schedule)

    def crash(epoch: int, step: int, losses: dict) -> None:
        if epoch == 1 and step == 3:  # dies during epoch 2; the checkpoint of epoch 1 survives
            raise _Crash

    ckpt = tmp_path / "run.safetensors"
    with pytest.raises(_Crash):
        train(fresh(), samples, schedule, checkpoint=ckpt, callback=crash)
    resumed = fresh()
    history = train(resumed, samples, schedule, checkpoint=ckpt)  # a new process picks the run up
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    assert history.rows == reference.rows
    # epochs is extendable: the finished run goes on for one more epoch
    longer = train(resumed, samples, TrainConfig(**{**schedule.__dict__, "epochs": 4}), checkpoint=ckpt)
    assert [row["epoch"] for row in longer.rows] == [1, 2, 3, 4] and longer.rows[:3] == reference.rows
    # any other change is refused, naming the field
    with pytest.raises(CheckpointMismatchError, match="lr"):
        train(fresh(), samples, TrainConfig(**{**schedule.__dict__, "lr": 0.5}), checkpoint=ckpt)


def test_training_leaves_the_global_random_state_alone(tiny_set):
    before = torch.random.get_rng_state()
    model = JTVAE(tiny_set.vocab, JTVAEConfig(hidden=8, latent=4, depth_tree=2, depth_graph=1), seed=3)
    train(model, tiny_set.samples[:2], TrainConfig(epochs=1, batch_size=2))
    assert torch.equal(torch.random.get_rng_state(), before)


def test_kl_annealing_schedule():
    config = TrainConfig(beta_start=0.0, beta_max=0.01, beta_warmup=10, beta_step=0.002, beta_every=5)
    assert config.beta(0) == 0.0 and config.beta(9) == 0.0
    assert config.beta(10) == pytest.approx(0.002)
    assert config.beta(15) == pytest.approx(0.004)
    assert config.beta(10_000) == pytest.approx(0.01)


def test_unknown_cluster_and_bad_smiles_are_named(tiny_model):
    model, _ = tiny_model
    with pytest.raises(InputError, match="not in the model's vocabulary") as info:
        model.encode("C1CCCCCCCCCCC1")  # a 12-ring is not among the tiny vocabulary's clusters
    assert "C1CCCCCCCCCCC1" in str(info.value)
    with pytest.raises(InputError, match="C1CC"):
        model.encode("C1CC")
    with pytest.raises(InputError, match="latent width"):
        model.decode(torch.zeros(2, 3))


def test_bad_configs_are_rejected():
    with pytest.raises(InputError, match="latent"):
        JTVAEConfig(latent=7)
    with pytest.raises(InputError, match="hidden"):
        JTVAEConfig(hidden=0)
    with pytest.raises(InputError, match="lr"):
        TrainConfig(lr=-1.0)
    with pytest.raises(InputError, match="no training molecules"):
        train(JTVAE(Vocab(["CC"]), JTVAEConfig(hidden=8, latent=4)), [])


def test_reconstruction_accuracy_counts_exact_decodings(tiny_set, tiny_model):
    model, _ = tiny_model
    smiles = [s.smiles for s in tiny_set.samples]
    by_hand = sum(r == s for r, s in zip(model.reconstruct(smiles), smiles)) / len(smiles)
    assert reconstruction_accuracy(model, smiles, mean=True) == by_hand
    draws = reconstruction_accuracy(model, smiles, encodings=2, decodings=2, seed=3)
    assert draws == reconstruction_accuracy(model, smiles, encodings=2, decodings=2, seed=3)
    hits = 0
    for i in range(4):  # the same draws decoded by hand
        z = model.encode(smiles, sample=True, seed=3000 + i)
        hits += sum(d == s for d, s in zip(model.decode(z), smiles))
    assert draws == hits / (4 * len(smiles))
    with pytest.raises(InputError, match="encodings"):
        reconstruction_accuracy(model, smiles, encodings=0)
    with pytest.raises(InputError, match="no molecules"):
        reconstruction_accuracy(model, [])


def test_reconstruction_compares_molecules_not_spellings(tiny_set, tiny_model, tmp_path):
    from molgraph.data import read_records

    model, _ = tiny_model
    canonical = [s.smiles for s in tiny_set.samples]
    respelled = [Chem.MolToSmiles(Chem.MolFromSmiles(s), doRandom=True, canonical=False) for s in canonical]
    assert respelled != canonical
    source = tmp_path / "test.smi"
    source.write_text("".join(f"{s}\tMOL{i}\n" for i, s in enumerate(respelled)))  # SMILES, tab, ID
    records = read_records(source)
    assert [r.smiles for r in records] == respelled and [r.id for r in records] == [
        f"MOL{i}" for i in range(6)
    ]
    expected = reconstruction_accuracy(model, canonical, mean=True)
    assert expected > 0.5
    assert reconstruction_accuracy(model, [r.smiles for r in records], mean=True) == expected


def test_prior_quality_matches_the_metrics_of_the_samples(tiny_set, tiny_model):
    model, _ = tiny_model
    training = [s.smiles for s in tiny_set.samples]
    quality = prior_quality(model, 20, training, seed=4)
    samples = model.sample(20, seed=4)
    assert quality == {
        "validity": validity(samples),
        "uniqueness": uniqueness(samples),
        "novelty": novelty(samples, training),
    }
    assert quality["validity"] > 0.5  # a None (tree not assembled) counts as invalid
    assert math.isnan(prior_quality(model, 5, seed=4)["novelty"])


def test_the_papers_eq12_scorer_learns_the_attachments(tiny_set):
    # Eq. 12: tree messages injected into the candidates' bond messages (scorer="messages");
    # measured on these 6 molecules after 30 epochs: assembly loss 4.71 -> 0.23 (the cluster-vector
    # scorer: 4.67 -> 1.12), training assembly accuracy 0.91 (0.78)
    config = JTVAEConfig(hidden=32, latent=8, depth_tree=4, depth_graph=3, scorer="messages")
    model = JTVAE(tiny_set.vocab, config, seed=0)
    schedule = TrainConfig(epochs=30, batch_size=6, lr=5e-3, lr_decay=1.0, beta_warmup=10**9)
    history = train(model, tiny_set.samples, schedule)
    assert history.rows[-1]["assm_loss"] < 0.3 * history.rows[0]["assm_loss"]
    assert history.rows[-1]["assm_acc"] > 0.8
    with pytest.raises(InputError, match="scorer"):
        JTVAEConfig(scorer="attention")  # type: ignore[arg-type]

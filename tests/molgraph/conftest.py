"""Shared fixtures: one tiny JT-VAE trained once on a handful of bundled molecules.

(The suite-wide conftest runs every test on one torch thread.)"""

from __future__ import annotations

import pytest

from molgraph import JTVAE, JTVAEConfig, TrainConfig, bundled_smiles, prepare, train

OVERFIT_SIZE = 6


@pytest.fixture(scope="package")
def tiny_set():
    return prepare(bundled_smiles("train")[:OVERFIT_SIZE], desc="tiny")


@pytest.fixture(scope="package")
def tiny_model(tiny_set):
    model = JTVAE(
        tiny_set.vocab,
        JTVAEConfig(hidden=64, latent=16, depth_tree=6, depth_graph=3, max_tree_nodes=30),
        seed=0,
    )
    config = TrainConfig(epochs=80, batch_size=OVERFIT_SIZE, lr=5e-3, lr_decay=1.0, beta_warmup=10**9)
    history = train(model, tiny_set.samples, config)
    return model, history

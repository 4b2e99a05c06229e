"""Shared fixtures: one thread for torch (tiny tensors; threads only contend on 2 shared cores)
and one tiny JT-VAE trained once on a handful of bundled molecules."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import torch

from molgraph import JTVAE, JTVAEConfig, TrainConfig, bundled_smiles, prepare, train

OVERFIT_SIZE = 6


@contextmanager
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Every molgraph test runs single-threaded; the setting is restored after each test."""
    with one_torch_thread():
        yield


@pytest.fixture(scope="package")
def tiny_set():
    return prepare(bundled_smiles("train")[:OVERFIT_SIZE], desc="tiny")


@pytest.fixture(scope="package")
def tiny_model(tiny_set):
    torch.manual_seed(0)
    model = JTVAE(
        tiny_set.vocab, JTVAEConfig(hidden=64, latent=16, depth_tree=6, depth_graph=3, max_tree_nodes=30)
    )
    config = TrainConfig(epochs=60, batch_size=OVERFIT_SIZE, lr=5e-3, lr_decay=1.0, beta_warmup=10**9)
    with one_torch_thread():
        history = train(model, tiny_set.samples, config)
    return model, history

"""`neurosat fit` under torchrun: two CPU processes (gloo) follow the single-process loss curve."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from neurosat.cli import main
from neurosat.config import NeuroSATConfig, TrainConfig
from neurosat.dataset import load_problems
from neurosat.model import NeuroSAT
from neurosat.train import fit, rank_share, training_batches

TOLERANCE = 1e-5  # relative, per step: only the order of float sums differs between 1 and 2 processes
# (measured: identical to the last bit on this tiny problem; the tolerance leaves room for other BLAS)


def test_rank_share_keeps_twins_together_and_covers_the_batch() -> None:
    from neurosat.sr import generate_sr

    problems = generate_sr(7, 3, 9, seed=1)
    batch = [[2 * i, 2 * i + 1] for i in range(7)]
    shares = [rank_share(batch, problems, rank, 3) for rank in range(3)]
    assert sorted(i for share in shares for i in share) == list(range(14))
    for share in shares:
        assert share and all(i + 1 in share for i in share if i % 2 == 0)


@pytest.mark.slow
def test_two_process_fit_matches_one_process_and_resumes_on_one(tmp_path) -> None:
    data = tmp_path / "data"
    assert main(["generate", "--pairs", "12", "--min-vars", "3", "--max-vars", "6", "--out", str(data)]) == 0
    model_config = NeuroSATConfig(d=8, rounds=3, mlp_layers=1)
    config = TrainConfig(epochs=2, learning_rate=1e-3, max_nodes=300, seed=0, rounds=3)
    problems = load_problems(data)

    def fresh() -> NeuroSAT:  # what `neurosat fit --seed 0` builds
        return NeuroSAT(model_config, generator=torch.Generator().manual_seed(0))

    reference = fit(fresh(), problems, config, show_progress=False)

    # Epoch 1 on two gloo processes under torchrun ("--" stops torchrun's own parser, which would
    # otherwise claim "--d" as an abbreviation of one of its options) ...
    run = tmp_path / "run"
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    options = [
        "--d",
        "8",
        "--rounds",
        "3",
        "--mlp-layers",
        "1",
        "--max-nodes",
        "300",
        "--learning-rate",
        "1e-3",
    ]
    command = [*launcher, "-m", "neurosat.cli", "--", "fit", str(data), "--out", str(run), *options]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([*command, "--epochs", "1", "--device", "cpu"], check=True, capture_output=True, env=env)
    two = json.loads((run / "history.json").read_text())["step_loss"]
    assert len(two) >= 3 and any(len(batch) < 2 for batch in _epoch_batches(problems, config))
    assert two == pytest.approx(reference.step_loss[: len(two)], rel=TOLERANCE)

    # ... then resumed from the 2-process checkpoint on one process for epoch 2.
    resumed = fit(fresh(), problems, config, checkpoint=run / "checkpoint.safetensors", show_progress=False)
    assert resumed.step_loss == pytest.approx(reference.step_loss, rel=TOLERANCE)
    assert resumed.loss == pytest.approx(reference.loss, rel=TOLERANCE)


def _epoch_batches(problems, config):
    """The first epoch's batches (lists of twin pairs), as `fit` cuts them."""
    units = [[i, i + 1] for i in range(0, len(problems), 2)]
    order = np.random.default_rng(config.seed).permutation(len(units))
    return training_batches(problems, units, order, config.max_nodes)

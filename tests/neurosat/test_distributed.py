"""`neurosat fit` under torchrun: two CPU processes (gloo) follow the single-process loss curve.

The two ranks are started the way torchrun starts them (its env:// contract: ``RANK``,
``LOCAL_RANK``, ``WORLD_SIZE``, ``LOCAL_WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT`` in each
process's environment, then ``neurosat.cli`` ``fit``), but forked from the test process so that
they do not pay three fresh imports of torch (the launcher's and each worker's): this test took
28.6 s with ``python -m torch.distributed.run`` (load average 7) and 8.9-11 s forked (load average
10). `neurosat.distributed` reads
only these variables, so the code under test is the same.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import socket

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

    # Epoch 1 on two gloo processes started as torchrun starts them ...
    run = tmp_path / "run"
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
    argv = ["fit", str(data), "--out", str(run), *options, "--epochs", "1", "--device", "cpu"]
    joined = tmp_path / "joined"
    assert _launch_like_torchrun(argv, processes=2, joined=str(joined)) == [0, 0]
    assert [(tmp_path / f"joined.{r}").read_text() for r in (0, 1)] == ["0 2", "1 2"]
    two = json.loads((run / "history.json").read_text())["step_loss"]
    assert len(two) >= 3 and any(len(batch) < 2 for batch in _epoch_batches(problems, config))
    assert two == pytest.approx(reference.step_loss[: len(two)], rel=TOLERANCE)

    # ... then resumed from the 2-process checkpoint on one process for epoch 2.
    resumed = fit(fresh(), problems, config, checkpoint=run / "checkpoint.safetensors", show_progress=False)
    assert resumed.step_loss == pytest.approx(reference.step_loss, rel=TOLERANCE)
    assert resumed.loss == pytest.approx(reference.loss, rel=TOLERANCE)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _rank_main(rank: int, world: int, port: int, argv: list[str], joined: str) -> None:
    init = torch.distributed.init_process_group

    def recording_init(*args, **kwargs):  # records that this rank really joined a group of `world`
        init(*args, **kwargs)
        with open(f"{joined}.{rank}", "w") as record:
            record.write(f"{torch.distributed.get_rank()} {torch.distributed.get_world_size()}")

    torch.distributed.init_process_group = recording_init
    os.environ.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world),
        LOCAL_WORLD_SIZE=str(world),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        OMP_NUM_THREADS="1",
    )
    os._exit(main(argv))  # no pytest teardown in the forked child


def _launch_like_torchrun(
    argv: list[str], processes: int, joined: str, timeout: float = 120.0
) -> list[int | None]:
    """Run ``neurosat.cli`` `argv` on `processes` forked ranks with torchrun's environment; exit codes.

    Each rank that joins the process group writes ``"RANK WORLD_SIZE"`` to ``{joined}.{rank}``.
    """
    context = multiprocessing.get_context("fork")
    port = _free_port()
    ranks = [
        context.Process(target=_rank_main, args=(r, processes, port, argv, joined)) for r in range(processes)
    ]
    for process in ranks:
        process.start()
    for process in ranks:
        process.join(timeout)
    for process in ranks:
        if process.is_alive():
            process.kill()
    return [process.exitcode for process in ranks]


def _epoch_batches(problems, config):
    """The first epoch's batches (lists of twin pairs), as `fit` cuts them."""
    units = [[i, i + 1] for i in range(0, len(problems), 2)]
    order = np.random.default_rng(config.seed).permutation(len(units))
    return training_batches(problems, units, order, config.max_nodes)

"""Progress & Compress (`hrl.continual.progress_compress`): the active column without laterals is the
plain MLP and its laterals read the knowledge base, the compress phase distils the active column into
the knowledge base, P&C and online EWC forget less than fine-tuning on a tiny rotated-digit sequence,
kill-and-resume, bad configs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

import hrl.continual.progress_compress as pc
from core.errors import CheckpointMismatchError, InputError
from hrl.continual import _forward, continual_metrics, mnist_stream
from hrl.continual.learners import _init_params
from hrl.continual.progress_compress import ProgressCompressConfig, active_forward, train_sequence


def test_active_column_without_laterals_is_the_mlp_and_its_laterals_add_the_base_hidden_layer():
    gen = torch.Generator().manual_seed(0)
    sizes = [5, 7, 6, 3]
    active, base = _init_params(sizes, gen), _init_params(sizes, gen)
    x = torch.randn(4, 5, generator=gen)
    zeros = [torch.zeros(6, 7), torch.zeros(3, 6)]
    torch.testing.assert_close(active_forward(active, zeros, base, x), _forward(active, x))
    lateral = torch.randn(3, 6, generator=gen)
    h_base = torch.relu(torch.relu(x @ base[0].T + base[1]) @ base[2].T + base[3])
    expected = _forward(active, x) + h_base @ lateral.T
    torch.testing.assert_close(active_forward(active, [zeros[0], lateral], base, x), expected)


def _digits(tasks=2, per_task=150):
    return mnist_stream("rotations", tasks, per_task, 150, seed=0)[0]


def test_compress_phase_distils_the_active_column_into_the_knowledge_base():
    stream = _digits(tasks=1)
    config = ProgressCompressConfig(method="pc", hidden=(32,), epochs=8)
    learner = pc._Sequence(config, 784, 10)
    initial = [p.clone() for p in learner.base]
    active_acc = learner.learn(*stream[0])
    x = stream[0][0]

    def kl_to_teacher(base):
        with torch.no_grad():
            teacher = torch.log_softmax(active_forward(learner.active, learner.laterals, initial, x), 1)
            student = torch.log_softmax(_forward(base, x), 1)
        return float(torch.nn.functional.kl_div(student, teacher, log_target=True, reduction="batchmean"))

    before, after = kl_to_teacher(initial), kl_to_teacher(learner.base)
    # measured (seed 0): KL 0.239 before compress, 0.024 after; active column accuracy 0.60
    assert after < 0.3 * before, (before, after)
    assert active_acc > 0.5


def test_progress_and_compress_and_online_ewc_forget_less_than_fine_tuning():
    stream = _digits()
    config = ProgressCompressConfig(hidden=(32,), epochs=4, ewc_lambda=100.0)
    bti = {
        m: continual_metrics(train_sequence(stream, replace(config, method=m)).result)["bti"]
        for m in ("finetune", "online-ewc", "pc")
    }
    # measured (seed 0): BTI fine-tuning -0.153, online EWC -0.093, P&C +0.007
    assert bti["online-ewc"] > bti["finetune"] + 0.03, bti
    assert bti["pc"] > bti["finetune"] + 0.1, bti


@pytest.mark.parametrize("method", ["pc", "independent"])
def test_a_killed_sequence_resumes_from_its_checkpoint_exactly(tmp_path, monkeypatch, method):
    gen = torch.Generator().manual_seed(2)
    stream = [
        (
            torch.randn(20, 6, generator=gen),
            torch.randint(0, 3, (20,), generator=gen),
            torch.randn(8, 6, generator=gen),
            torch.randint(0, 3, (8,), generator=gen),
        )
        for _ in range(3)
    ]
    config = ProgressCompressConfig(method=method, hidden=(8, 8), epochs=2, batch_size=8)
    reference = train_sequence(stream, config)
    path = tmp_path / "run.safetensors"
    real, calls = pc._Sequence.learn, {"n": 0}

    def dying(self, *args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(self, *args)

    monkeypatch.setattr(pc._Sequence, "learn", dying)
    with pytest.raises(KeyboardInterrupt):
        train_sequence(stream, config, checkpoint=path)
    monkeypatch.setattr(pc._Sequence, "learn", real)
    resumed = train_sequence(stream, config, checkpoint=path)
    np.testing.assert_array_equal(resumed.result, reference.result)
    if method == "pc":
        np.testing.assert_array_equal(resumed.active, reference.active)
    with pytest.raises(CheckpointMismatchError, match="epochs"):
        train_sequence(stream, replace(config, epochs=3), checkpoint=path)
    with pytest.raises(InputError, match="different task sequence"):
        train_sequence(stream[:2], config, checkpoint=path)


@pytest.mark.parametrize(
    ("field", "value"),
    [("method", "lwf"), ("hidden", ()), ("lr", -1.0), ("ewc_gamma", 0.0), ("epochs", 0), ("seed", -1)],
)
def test_bad_sequence_configs_raise_one_clear_error(field, value):
    with pytest.raises(InputError, match=field):
        ProgressCompressConfig(**{field: value})


def test_cli_runs_a_tiny_sequence_and_refuses_a_bad_config_in_one_line(capsys, tmp_path):
    from core.testing import exit_code, one_line_error
    from hrl.cli import main

    argv = ["progress-compress", "--tasks", "2", "--per-task", "20", "--test-per-task", "10"]
    argv += ["--hidden", "8", "--epochs", "1", "--out", str(tmp_path)]
    assert exit_code(main, argv) == 0
    out = capsys.readouterr().out
    assert "after task 1" in out and "active column" in out and "ACC" in out
    assert (tmp_path / "sequence_pc.safetensors").is_file()
    assert exit_code(main, [*argv, "--ewc-gamma", "2"]) == 2
    one_line_error(capsys, "ewc_gamma")


def test_the_study_publishes_its_tables_and_per_task_figures(tmp_path):
    from core.cli import RunOptions
    from hrl.experiments.progress_compress import SMOKE, run_progress_compress_study

    study = replace(
        SMOKE, tasks=2, per_task=20, test_per_task=20, seeds=1, learner=replace(SMOKE.learner, epochs=1)
    )
    tables = run_progress_compress_study(RunOptions(out=tmp_path, seed=0), study)
    assert len(tables) == 2 * len(study.streams)
    for kind in study.streams:
        assert (tmp_path / f"progress_compress_{kind}.png").stat().st_size > 1000

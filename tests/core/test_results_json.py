"""Results files a machine can read: strict JSON, numbers as numbers, a provenance block."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from core import MeanSD, ResultTable, RunOptions, mean_sd
from core.provenance import provenance


def _strict_load(text):
    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def test_json_is_strict_and_keeps_numbers_as_numbers(tmp_path):
    table = ResultTable(
        "t",
        rows=[
            {"model": "mtlr", "c": mean_sd([0.7, 0.8, 0.75]), "nan": float("nan"), "inf": math.inf},
            {
                "model": "km",
                "c": np.float32(0.5),
                "n": np.int64(3),
                "t": torch.tensor([1.0, 2.0]),
                "ok": True,
            },
        ],
        data="flchain (scikit-survival)",
    )
    path = table.save(tmp_path, provenance=provenance(package="core", seed=3, scale="smoke", command=["x"]))
    payload = _strict_load(path.read_text())
    first, second = payload["rows"]
    assert first["c"] == {"mean": pytest.approx(0.75), "sd": pytest.approx(0.05), "n": 3}
    assert first["nan"] is None and first["inf"] is None
    assert second == {"model": "km", "c": 0.5, "n": 3, "t": [1.0, 2.0], "ok": True}
    assert payload["columns"] == ["model", "c", "nan", "inf", "n", "t", "ok"]
    assert payload["data"] == "flchain (scikit-survival)"
    assert "0.750 ± 0.050" in (tmp_path / "t.md").read_text()
    back = ResultTable.load(path)
    assert isinstance(back.rows[0]["c"], MeanSD) and back.rows[0]["c"].n == 3


def test_provenance_names_versions_commit_seed_scale_command_times_and_hardware():
    record = provenance(
        package="core", seed=7, scale="full", command=["reproduce", "core"], started="2026-01-01T00:00:00Z"
    )
    assert record["versions"]["core"] and "torch" in record["versions"]
    assert record["seed"] == 7 and record["scale"] == "full" and record["command"] == ["reproduce", "core"]
    assert record["started"] == "2026-01-01T00:00:00Z" and record["finished"] >= record["started"]
    assert record["hardware"]["cpu_count"] >= 1 and isinstance(record["hardware"]["gpus"], list)
    commit = record["git_commit"]
    assert commit is None or len(commit.split("+")[0]) == 40  # None when installed from a wheel
    json.dumps(record, allow_nan=False)


def test_publish_writes_the_table_at_once_with_provenance(tmp_path, capsys):
    options = RunOptions(seed=4, out=tmp_path, package="core", command=("reproduce", "core"))
    path = options.publish(ResultTable("early", rows=[{"x": 1}]))
    assert options.is_published("early") and "| x |" in capsys.readouterr().out
    record = _strict_load(path.read_text())["provenance"]
    assert record["seed"] == 4 and record["command"] == ["reproduce", "core"]


def test_unserialisable_cells_are_refused():
    with pytest.raises(TypeError, match="object"):
        ResultTable("t", rows=[{"x": object()}]).to_dict()


def test_import_core_does_not_import_torch():
    code = "import sys, core; core.InputError; core.ResultTable; import core.cli, core.reproduce; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"

import json
import statistics

import pytest
import torch

from core import InputError, ResultTable, mean_sd, measure, pick_device, throughput, torch_threads


def test_result_table_renders_markdown_with_union_of_columns():
    table = ResultTable("scores", title="Scores", notes="higher is better")
    table.add(model="mtlr", c_index=0.7512345)
    table.add(model="km", c_index=0.5, note="a|b")
    text = table.to_markdown()
    assert text.splitlines()[:5] == [
        "### Scores",
        "",
        "| model | c_index | note |",
        "|---|---|---|",
        "| mtlr | 0.7512 |  |",
    ]
    assert "a\\|b" in text and text.endswith("higher is better")


def test_result_table_saves_json_and_markdown_that_load_back(tmp_path):
    table = ResultTable("t", rows=[{"a": 1, "b": torch.tensor(2.5), "c": [1, 2]}])
    path = table.save(tmp_path / "out")
    assert json.loads(path.read_text())["rows"] == [{"a": 1, "b": 2.5, "c": [1, 2]}]
    assert (tmp_path / "out" / "t.md").read_text().startswith("| a | b | c |")
    assert ResultTable.load(path).rows[0]["b"] == 2.5


def test_mean_sd_matches_statistics_module():
    values = [0.61, 0.7, 0.64, 0.73]
    expected = f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"
    summary = mean_sd(values)
    assert str(summary) == expected
    assert summary.mean == pytest.approx(statistics.mean(values), rel=1e-15)
    assert summary.sd == pytest.approx(statistics.stdev(values), rel=1e-15)
    assert (summary.n, mean_sd([float("nan"), 0.5]).to_json()) == (4, {"mean": 0.5, "sd": None, "n": 1})
    assert mean_sd([]).to_json() == {"mean": None, "sd": None, "n": 0}


def test_measure_calls_warmup_plus_repeats_and_reports_the_median(monkeypatch):
    calls = []
    clock = iter([0.0, 1.0, 10.0, 13.0, 20.0, 22.0])  # three repeats lasting 1, 3, 2 s
    monkeypatch.setattr("core.timing.time.perf_counter", lambda: next(clock))
    result = measure(lambda: calls.append(1) or len(calls), repeats=3, warmup=2)
    assert len(calls) == 5
    assert (result.median, result.minimum, result.maximum) == (2.0, 1.0, 3.0)
    assert result.last_value == 5
    assert result.per_second(10) == 5.0


def test_throughput_is_items_over_median_seconds(monkeypatch):
    clock = iter([0.0, 0.5])
    monkeypatch.setattr("core.timing.time.perf_counter", lambda: next(clock))
    assert throughput(lambda: None, 100, repeats=1, warmup=0) == 200.0
    with pytest.raises(ValueError, match="repeats"):
        measure(lambda: None, repeats=0)


def test_pick_device_resolves_auto_and_rejects_unknown_names():
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert pick_device("CPU") == torch.device("cpu")
    with pytest.raises(InputError, match="offending item: tpu"):
        pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="CUDA"):
            pick_device("cuda")


def test_torch_threads_sets_and_restores_the_thread_count_even_on_error():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError, match="boom"), torch_threads(1):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before
    with pytest.raises(InputError, match="offending item: 0"), torch_threads(0):
        pass

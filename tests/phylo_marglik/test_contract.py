"""The workspace contract: light imports, the shared CLI options and their errors, the study's data
(fetched with checksums, found by one lookup order, never replaced silently), results with data=."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.errors import InputError
from core.reproduce import main as reproduce_main
from phylo_marglik import study_data
from phylo_marglik.cli import main
from phylo_marglik.configs import StudyConfig
from phylo_marglik.data import load_study_dataset, simulate_alignment
from phylo_marglik.estimators import EstimatorConfig
from phylo_marglik.study_data import STUDY_FILES, fetch_study_data, locate_study_data
from phylo_marglik.tree import parse_newick

HEAVY = ("torch", "numpy", "dendropy", "scipy", "matplotlib")


def test_import_and_every_help_load_no_heavy_library():
    code = (
        "import sys, contextlib, io\n"
        "import phylo_marglik\n"
        "from phylo_marglik.cli import main\n"
        "for argv in (['--help'], ['estimate', '--help'], ['study', '--help'], ['data', 'fetch', '--help'],"
        " ['reproduce', '--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "        main(argv)\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out


def _case(folder: Path) -> list[str]:
    taxa = ("a", "b", "c", "d")
    tree = parse_newick("((a:0.1,b:0.2):0.05,c:0.1,d:0.15);", taxa)
    aln = simulate_alignment(tree, tree.branch_lengths, 40, np.random.default_rng(2))
    (folder / "aln.fasta").write_text("".join(f">{t}\n{s}\n" for t, s in zip(aln.taxa, aln.sequences)))
    (folder / "trees.nwk").write_text("((a,b),c,d);\n")
    return [
        "--alignment",
        str(folder / "aln.fasta"),
        "--trees",
        str(folder / "trees.nwk"),
        "--methods",
        "map",
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--seed", "-1"], "--seed: must be >= 0"),
        (["--seed", "x"], "not an integer"),
        (["--threads", "0"], "--threads: must be >= 1"),
        (["--device", "gpu7"], "unknown device"),
        (["--scale", "huge"], "invalid choice"),
        (["--budget", "smoke"], "unrecognized arguments"),
    ],
)
def test_bad_options_end_in_one_line_and_exit_code_2(tmp_path, capsys, extra, message):
    with pytest.raises(SystemExit) as stop:
        main(["estimate", *_case(tmp_path), *extra])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_missing_input_a_file_as_out_and_an_unusable_device_exit_2(tmp_path, capsys):
    args = _case(tmp_path)
    with pytest.raises(SystemExit) as stop:
        main(["estimate", *args[:1], str(tmp_path / "missing.fasta"), *args[2:]])
    assert stop.value.code == 2 and "file not found" in capsys.readouterr().err
    (tmp_path / "table.csv").write_text("")
    with pytest.raises(SystemExit) as stop:
        main(["estimate", *args, "--out", str(tmp_path / "table.csv")])
    assert stop.value.code == 2 and "must be a folder" in capsys.readouterr().err
    assert main(["estimate", *args, "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert "CPU only" in err and len(err.strip().splitlines()) == 1
    assert main(["study", *args, "--replicates", "0"]) == 2
    assert "at least one replicate" in capsys.readouterr().err


def test_cli_defaults_are_read_from_the_config_dataclasses(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["study", "--help"])
    assert f"(default: {StudyConfig().replicates})" in capsys.readouterr().out
    assert main(["estimate", *_case(tmp_path), "--prior-rate", "5", "--out", str(tmp_path / "o")]) == 0
    rows = json.loads((tmp_path / "o" / "estimates.json").read_text())["rows"]
    assert rows[0]["converged"] is True and rows[0]["estimator"] == "map"


def test_default_estimator_budget_is_quick_and_the_study_budget_is_named():
    quick, study = EstimatorConfig.preset("quick"), EstimatorConfig.preset("study")
    assert study == EstimatorConfig() and study.mcmc.iterations == 1_000_000
    assert quick.mcmc.iterations * quick.n_steps <= 10_000
    with pytest.raises(InputError, match=r"unknown budget.*days"):
        EstimatorConfig.preset("days")


@pytest.fixture
def no_study_data(monkeypatch, tmp_path):
    """A user who cloned the repository alone: no env var, an empty cache, no shared folder."""
    monkeypatch.delenv("PHYLO_MARGLIK_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(study_data, "_beside_checkout", lambda: None)


def test_reproduce_without_the_data_fails_in_one_line_saying_how_to_get_it(no_study_data, tmp_path, capsys):
    code = reproduce_main(["phylo-marglik", "--out", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "phylo-marglik data fetch" in err and "--data simulated" in err
    assert not (tmp_path / "runs" / "phylo-marglik").exists()
    with pytest.raises(InputError, match=r"lacks a study file.*DS2\.nex"):
        load_study_dataset("DS2", tmp_path)


def test_reproduce_runs_the_simulated_case_only_when_asked_by_name(no_study_data, tmp_path, monkeypatch):
    from phylo_marglik import reproduce

    tiny = StudyConfig(estimators=("map", "gl"), replicates=1, estimator=EstimatorConfig.preset("quick"))
    monkeypatch.setattr(reproduce, "smoke_config", lambda: tiny)
    out = tmp_path / "runs"
    assert reproduce_main(["phylo-marglik", "--data", "simulated", "--out", str(out)]) == 0
    table = json.loads((out / "phylo-marglik" / "estimates_simulated.json").read_text())
    assert table["data"]["dataset"] == "simulated" and "simulated_case" in table["data"]["how"]
    assert table["provenance"]["seed"] == 0
    assert (out / "phylo-marglik" / "records_simulated.json").is_file()


def _mirror(folder: Path, names: dict[str, bytes]) -> dict[str, str]:
    import hashlib

    folder.mkdir(parents=True, exist_ok=True)
    for name, content in names.items():
        (folder / name).write_bytes(content)
    return {name: hashlib.sha256(content).hexdigest() for name, content in names.items()}


def test_data_fetch_verifies_checksums_and_fills_the_cache_the_lookup_then_finds(
    no_study_data, tmp_path, monkeypatch
):
    files = {"DS2.nex": b"#NEXUS\n", "JC_no_gamma_credible_set_ds2": b"1.0\t((a,b),c,d);\n"}
    monkeypatch.setattr(study_data, "STUDY_FILES", _mirror(tmp_path / "mirror", files))
    url = (tmp_path / "mirror").as_uri()
    assert main(["data", "fetch", "--url", url]) == 0
    location = locate_study_data(("DS2",))
    assert location.origin == "cache" and (location.folder / "DS2.nex").read_bytes() == files["DS2.nex"]
    assert locate_study_data(("DS2",), tmp_path / "mirror").origin == "--data"
    # a tampered file is refused and nothing is left behind
    (tmp_path / "mirror" / "DS2.nex").write_bytes(b"#NEXUS tampered\n")
    with pytest.raises(InputError, match="checksum mismatch"):
        fetch_study_data(tmp_path / "fresh", base_url=url)
    assert not (tmp_path / "fresh" / "DS2.nex").exists()


def test_recorded_checksums_are_those_of_the_study_files(study_data):
    from core.data import sha256_of

    for name, digest in STUDY_FILES.items():
        assert sha256_of(study_data / name) == digest, name


def test_a_study_case_names_its_folder_and_files(study_data):
    case = load_study_dataset("DS2", study_data)
    assert case.data["origin"] == "--data" and case.data["folder"] == str(study_data.resolve())
    assert case.data["files"] == ["DS2.nex", "JC_no_gamma_credible_set_ds2"]


def test_reproduce_options_follow_the_contract(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["reproduce", "--seed", "-1"])
    assert stop.value.code == 2 and "--seed: must be >= 0" in capsys.readouterr().err
    assert main(["reproduce", "--device", "cuda", "--data", "simulated", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "CPU only" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "phylo-marglik").exists()

"""The ``molgraph`` command line: happy paths and one-line errors for bad input."""

from __future__ import annotations

import json
from functools import partial

import pytest
import torch

from core.errors import InputError
from core.testing import exit_code
from molgraph import (
    JTVAE,
    bundled_smiles,
    load_smiles,
    moses_metrics,
    penalized_logp,
    prior_quality,
    reconstruction_accuracy,
)
from molgraph.cli import main

_exit_code = partial(exit_code, main)


def test_decompose_prints_clusters(capsys):
    assert main(["decompose", "CC(=O)Nc1ccccc1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "C1=CC=CC=C1" in out["clusters"] and len(out["edges"]) == len(out["clusters"]) - 1


def test_decompose_keeps_the_input_stereo_and_stereo_free_clusters(capsys):
    assert main(["decompose", "C[C@H](N)C(=O)O", "C/C=C/C"]) == 0
    first, second = (json.loads(line) for line in capsys.readouterr().out.strip().splitlines())
    assert first["smiles"] == "C[C@H](N)C(=O)O" and second["smiles"] == "C/C=C/C"
    assert not any("@" in c or "/" in c for c in first["clusters"] + second["clusters"])


def test_bad_smiles_is_a_one_line_error(capsys):
    assert main(["decompose", "C1CC"]) == 2
    err = capsys.readouterr().err
    assert "C1CC" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_decompose_reports_a_bad_item_and_goes_on(capsys):
    assert main(["decompose", "CCO", "not_a_smiles", "CCN"]) == 2
    captured = capsys.readouterr()
    assert [json.loads(line)["smiles"] for line in captured.out.strip().splitlines()] == ["CCO", "CCN"]
    assert "not_a_smiles" in captured.err and len(captured.err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sample", "model.safetensors", "--seed", "-1"], "--seed"),
        (["fit", "bundled:train", "--seed", "1.5"], "--seed"),
        (["sample", "missing.safetensors"], "file not found"),
        (["fit", "missing.smi", "--out", "{tmp}/fit"], "SMILES file not found"),
        (["fit", "bundled:train", "--epochs", "0", "--out", "{tmp}/fit"], "epochs"),
        (["fit", "bundled:train", "--device", "tpu"], "--device"),
        (["vocab", "bundled:train", "--out", "{tmp}/file.txt"], "--out"),
        (["sample", "model.safetensors", "-n", "0"], "-n"),
    ],
)
def test_bad_options_and_inputs_end_in_one_line_and_exit_code_2(argv, message, tmp_path, capsys):
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "model.safetensors").write_text("x")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    argv = [str(tmp_path / a) if a == "model.safetensors" else a for a in argv]
    assert _exit_code(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) <= 2 and message in err[-1] and "Traceback" not in err[-1]  # argparse adds a usage line
    assert not (tmp_path / "fit").exists()


def test_fit_options_take_their_defaults_from_the_config_dataclasses():
    from molgraph.cli import build_parser
    from molgraph.config import JTVAEConfig, TrainConfig

    args = build_parser().parse_args(["fit", "x.smi"])
    for config in (JTVAEConfig(), TrainConfig()):
        for name, value in config.__dict__.items():
            assert getattr(args, name) == value, name


def test_vocab_and_model_commands(tmp_path, capsys, tiny_model):
    source = tmp_path / "mols.smi"
    source.write_text("CCO ethanol\nnot_a_smiles bad\nc1ccccc1CC\tethylbenzene\n[NH3+]CC(=O)[O-]\n")
    assert main(["vocab", str(source), "--out", str(tmp_path / "vocab")]) == 0
    captured = capsys.readouterr()
    assert "from 3 of 4 molecules" in captured.out
    assert f"{source} line 2: not_a_smiles: invalid SMILES" in captured.err
    clusters = json.loads((tmp_path / "vocab" / "vocab.json").read_text())
    assert "C[NH3+]" in clusters and "C[O-]" in clusters  # charged clusters are kept
    model, _ = tiny_model
    path = model.save(tmp_path / "model.safetensors")
    smiles = "OCc1cc(-c2ccc(N3CCCC3)nn2)ccc1F"
    assert main(["reconstruct", str(path), smiles, "--device", "cpu"]) == 0
    assert capsys.readouterr().out.startswith(smiles)
    assert main(["reconstruct", str(path), "C1CC", smiles, "--device", "cpu"]) == 2  # goes on past C1CC
    captured = capsys.readouterr()
    assert captured.out.startswith(smiles) and "C1CC" in captured.err
    assert main(["sample", str(path), "-n", "2", "--device", "cpu"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 2
    assert _exit_code(["sample", str(tmp_path / "none.safetensors"), "--device", "cpu"]) == 2
    assert "file not found" in capsys.readouterr().err


def test_data_command_extracts_a_local_wheel(tmp_path, capsys):
    import gzip
    import zipfile

    wheel = tmp_path / "molsets-0.3.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for split in ("train", "test", "test_scaffolds"):
            archive.writestr(f"moses/dataset/data/{split}.csv.gz", gzip.compress(b"SMILES\nCCO\n"))
    assert main(["data", "moses", "--wheel", str(wheel), "--dest", str(tmp_path / "moses")]) == 0
    assert "train.csv.gz" in capsys.readouterr().out
    assert (
        main(["data", "moses", "--wheel", str(tmp_path / "missing.whl"), "--dest", str(tmp_path / "m")]) == 2
    )
    assert "missing.whl" in capsys.readouterr().err


def test_fit_then_encode_from_the_command_line(tmp_path, capsys):
    from molgraph import bundled_smiles

    source = tmp_path / "train.smi"
    source.write_text("\n".join(bundled_smiles("train")[:6]) + "\n")
    out = tmp_path / "fit"
    args = ["fit", str(source), "--out", str(out), "--hidden", "8", "--latent", "4", "--depth-tree", "2"]
    options = ["--epochs", "1", "--batch-size", "3", "--device", "cpu", "--max-stereoisomers", "0"]
    schedule = ["--beta-max", "0.01", "--beta-warmup", "0", "--beta-step", "0.004", "--beta-every", "1"]
    assert main([*args, *options, *schedule, "--lr-decay", "0.5", "--workers", "2"]) == 0
    assert "kept 6 of 6" in capsys.readouterr().out
    from core.checkpoint import load_checkpoint
    from molgraph import JTVAE, TrainConfig

    assert JTVAE.load(out / "model.safetensors").config.max_stereoisomers == 0
    run = load_checkpoint(out / "training.safetensors", TrainConfig)
    assert (run.config.beta_max, run.config.beta_step, run.config.lr_decay) == (0.01, 0.004, 0.5)
    assert run.extra["history"][-1]["beta"] == 0.01  # two steps of 0.004 after step 0, capped at 0.01
    first = bundled_smiles("train")[0]
    assert main(["encode", str(out / "model.safetensors"), first, "--device", "cpu"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert len(json.loads(line)["z"]) == 4
    assert main(["fit", str(tmp_path / "none.smi"), "--out", str(out)]) == 2
    assert "SMILES file not found" in capsys.readouterr().err


def test_evaluate_command_reports_the_paper_metrics(tmp_path, capsys, tiny_set, tiny_model):
    model, _ = tiny_model
    path = model.save(tmp_path / "model.safetensors")
    test = tmp_path / "test.smi"
    test.write_text("\n".join([s.smiles for s in tiny_set.samples] + ["C1CCCCCCC1"]) + "\n")
    args = [
        "evaluate",
        str(path),
        str(test),
        "--train",
        "bundled:train",
        "--train-limit",
        "50",
        "--encodings",
        "2",
    ]
    options = ["--decodings", "1", "--samples", "10", "--device", "cpu", "--out", str(tmp_path / "eval")]
    assert main([*args, *options]) == 0
    out = capsys.readouterr().out
    assert "dropped: 1 cluster not in vocabulary" in out and "reconstruction (posterior mean)" in out
    assert "novelty against 50 SMILES of bundled:train" in out
    rows = {
        r["metric"]: r["value"]
        for r in json.loads((tmp_path / "eval" / "evaluation.json").read_text())["rows"]
    }
    smiles = [s.smiles for s in tiny_set.samples]
    assert rows["reconstruction (posterior mean)"] == reconstruction_accuracy(model, smiles, mean=True)
    assert rows["prior validity"] == prior_quality(model, 10, seed=0)["validity"]  # a None counts invalid
    assert 0.0 <= rows["prior novelty"] <= 1.0
    assert main(["evaluate", str(path), "bundled:valid", "--device", "cpu"]) == 2
    assert "unknown bundled split" in capsys.readouterr().err


def test_named_smiles_sources(tmp_path):
    assert load_smiles("bundled:test", limit=5) == bundled_smiles("test")[:5]
    source = tmp_path / "a.smi"
    source.write_text("CCO\n")
    assert load_smiles(source) == ["CCO"]
    with pytest.raises(InputError, match="unknown MOSES split"):
        load_smiles("moses:valid")


def test_optimize_command_runs_both_experiments(tmp_path, capsys, tiny_set, tiny_model):
    model, _ = tiny_model
    path = model.save(tmp_path / "model.safetensors")
    molecules = tmp_path / "mols.smi"
    molecules.write_text("\n".join(s.smiles for s in tiny_set.samples) + "\n")
    args = ["optimize", str(path), str(molecules), str(molecules), "--n-opt", "2", "--steps", "2"]
    options = ["--bo-rounds", "1", "--bo-batch", "2", "--device", "cpu", "--out", str(tmp_path / "opt")]
    assert main([*args, *options]) == 0
    assert "constrained (delta 0.4): success rate" in capsys.readouterr().out
    rows = {
        r["metric"]: r["measured"]
        for r in json.loads((tmp_path / "opt" / "optimisation.json").read_text())["rows"]
    }
    assert 0.0 <= rows["constrained (delta 0.4): success rate"] <= 1.0
    best = max(penalized_logp(s.smiles) for s in tiny_set.samples)
    assert rows["BO: best score among training molecules"] == pytest.approx(best, rel=1e-6)  # float32
    assert (tmp_path / "opt" / "bayesian_optimisation.png").is_file()


def test_fit_starts_from_a_model_skips_lines_and_reuses_its_prepared_set(
    tmp_path, capsys, tiny_set, tiny_model
):
    model, _ = tiny_model
    start = model.save(tmp_path / "start.safetensors")
    source = tmp_path / "train.smi"
    source.write_text("".join(f"{s.smiles} MOL{i}\n" for i, s in enumerate(tiny_set.samples)))
    out = tmp_path / "fit"
    args = ["fit", str(source), "--init", str(start), "--skip", "2", "--limit", "3", "--out", str(out)]
    options = ["--batch-size", "3", "--device", "cpu", "--lr", "1e-9", "--beta-warmup", "0"]
    assert main([*args, *options, "--epochs", "1"]) == 0
    assert "kept 3 of 3" in capsys.readouterr().out
    (block,) = (out / "prepared").glob("block-*.pkl")
    written = block.stat().st_mtime_ns
    fitted = JTVAE.load(out / "model.safetensors")
    assert fitted.config == model.config and fitted.vocab.clusters == model.vocab.clusters
    # lr 1e-9: the weights are still the starting model's (an untrained start would not encode alike)
    smiles = [s.smiles for s in tiny_set.samples[2:5]]
    assert torch.allclose(fitted.encode(smiles), model.encode(smiles), atol=1e-4)
    assert main([*args, *options, "--epochs", "2"]) == 0  # extended: the preparation is read back
    assert block.stat().st_mtime_ns == written and "kept 3 of 3" in capsys.readouterr().out
    assert main([*args, "--vocab", str(start), "--device", "cpu"]) == 2
    assert "--init brings its own vocabulary" in capsys.readouterr().err
    assert main(["fit", str(source), "--vocab", str(start), "--out", str(out)]) == 2  # not JSON
    assert "vocabulary file is not JSON" in capsys.readouterr().err


def test_evaluate_scores_prior_samples_with_the_moses_metrics(tmp_path, capsys, tiny_set, tiny_model):
    model, _ = tiny_model
    path = model.save(tmp_path / "model.safetensors")
    test = tmp_path / "test.smi"
    test.write_text("\n".join(s.smiles for s in tiny_set.samples) + "\n")
    options = ["--n-test", "0", "--samples", "8", "--moses-reference", "6", "--device", "cpu"]
    assert main(["evaluate", str(path), str(test), *options, "--out", str(tmp_path / "eval")]) == 0
    rows = {
        r["metric"]: r["value"]
        for r in json.loads((tmp_path / "eval" / "evaluation.json").read_text())["rows"]
    }
    assert not any(name.startswith("reconstruction") for name in rows)
    expected = moses_metrics(model.sample(8, seed=0), [s.smiles for s in tiny_set.samples], with_fcd=False)
    assert rows["MOSES SNN"] == pytest.approx(expected["SNN"]) and "MOSES FCD" in rows
    assert rows["MOSES unique@1k"] == pytest.approx(expected["unique@1k"])
    assert "MOSES metrics against the first 6 SMILES" in capsys.readouterr().out
    assert main(["evaluate", str(path), str(test), "--n-test", "0", "--samples", "0"]) == 2
    assert "nothing to evaluate" in capsys.readouterr().err

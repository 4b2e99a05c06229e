"""The ``robust`` command: light help, a train -> evaluate round trip, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

from robust.cli import main, parse_attack


def test_help_never_imports_torch():
    code = (
        "import sys\nfrom robust.cli import main\n"
        "for argv in ([], ['train'], ['defend'], ['evaluate'], ['attacks'], ['reproduce']):\n"
        "    try:\n        main([*argv, '--help'])\n    except SystemExit:\n        pass\n"
        "import robust\nassert 'torch' not in sys.modules and 'sklearn' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_attack_specs_parse_numbers_fractions_and_booleans():
    assert parse_attack("pgd:eps=8/255,steps=40,random_start=false") == (
        "pgd",
        {"eps": 8 / 255, "steps": 40, "random_start": False},
    )
    assert parse_attack("fgsm") == ("fgsm", {})


def test_train_then_evaluate_round_trip(tmp_path, capsys):
    checkpoint = tmp_path / "mlp.safetensors"
    argv = ["train", "--dataset", "digits", "--architecture", "mlp", "--widths", "16", "--epochs", "2"]
    assert main([*argv, "--checkpoint", str(checkpoint)]) == 0
    out = tmp_path / "out"
    argv = [
        "evaluate",
        str(checkpoint),
        "--attack",
        "fgsm:eps=0.1",
        "--attack",
        "pgd:eps=0.1,steps=2",
        "--limit",
        "20",
    ]
    assert main([*argv, "--out", str(out)]) == 0
    rows = json.loads((out / "evaluate.json").read_text())["rows"]
    assert [row["attack"] for row in rows] == ["fgsm", "pgd"] and rows[0]["n"] == 20
    assert main(["attacks"]) == 0
    assert "difgsm" in capsys.readouterr().out


def test_defend_then_evaluate_with_verified_accuracy(tmp_path):
    checkpoint = tmp_path / "ibp.safetensors"
    argv = ["defend", "--dataset", "digits", "--architecture", "mlp", "--widths", "16", "--epochs", "2"]
    argv += ["--recipe", "ibp", "--eps", "0.05", "--ibp-warmup-steps", "5", "--ibp-ramp-steps", "20"]
    assert main([*argv, "--checkpoint", str(checkpoint)]) == 0
    out = tmp_path / "out"
    argv = ["evaluate", str(checkpoint), "--attack", "pgd:eps=0.05,steps=2", "--limit", "30", "--verify"]
    assert main([*argv, "--out", str(out)]) == 0
    (row,) = json.loads((out / "evaluate.json").read_text())["rows"]
    assert 0 <= row["verified_accuracy"] <= row["robust_accuracy"]  # a certificate is never beaten by PGD


def test_bad_input_ends_in_one_line_and_exit_code_2(tmp_path, capsys):
    checkpoint = tmp_path / "mlp.safetensors"
    main(
        [
            "train",
            "--dataset",
            "digits",
            "--architecture",
            "mlp",
            "--widths",
            "8",
            "--epochs",
            "1",
            "--checkpoint",
            str(checkpoint),
        ]
    )
    capsys.readouterr()
    for argv, message in [
        (["evaluate", str(checkpoint), "--attack", "cw"], "unknown attack"),
        (["evaluate", str(checkpoint), "--attack", "pgd:eps=-1"], "eps must be >= 0"),
        (["evaluate", str(checkpoint), "--attack", "pgd:eps"], "key=value"),
        (["evaluate", str(tmp_path / "missing.safetensors"), "--attack", "fgsm"], "file not found"),
        (["train", "--dataset", "mnist", "--checkpoint", str(tmp_path / "x.safetensors")], "not bundled"),
        (
            [
                "defend",
                "--dataset",
                "digits",
                "--recipe",
                "ibp",
                "--ibp-kappa-final",
                "2",
                "--checkpoint",
                "x",
            ],
            "kappa schedule",
        ),
    ]:
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse errors
            code = exc.code
        err = capsys.readouterr().err.strip()
        assert code == 2 and message in err and len(err.splitlines()) == 1, (argv, err)

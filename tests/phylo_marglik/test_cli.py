"""The ``phylo-marglik`` command line: a small run and its errors on bad input."""

from __future__ import annotations

import json

import numpy as np

from phylo_marglik.cli import main
from phylo_marglik.data import simulate_alignment
from phylo_marglik.tree import parse_newick


def _write_case(folder):
    taxa = ("a", "b", "c", "d")
    tree = parse_newick("((a:0.1,b:0.2):0.05,c:0.1,d:0.15);", taxa)
    aln = simulate_alignment(tree, tree.branch_lengths, 60, np.random.default_rng(2))
    (folder / "aln.fasta").write_text("".join(f">{t}\n{s}\n" for t, s in zip(aln.taxa, aln.sequences)))
    (folder / "trees.nwk").write_text("((a,b),c,d);\n((a,c),b,d);\n")


def test_estimate_command_writes_a_table(tmp_path, capsys):
    _write_case(tmp_path)
    code = main(
        [
            "estimate",
            "--alignment",
            str(tmp_path / "aln.fasta"),
            "--trees",
            str(tmp_path / "trees.nwk"),
            "--methods",
            "gl,map",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0
    rows = json.loads((tmp_path / "out" / "estimates.json").read_text())["rows"]
    assert [(r["tree"], r["estimator"]) for r in rows] == [(0, "gl"), (0, "map"), (1, "gl"), (1, "map")]
    # the simulated tree's topology (tree 0) has the larger marginal likelihood
    assert rows[0]["log_ml"] > rows[2]["log_ml"]
    assert "| tree | estimator |" in capsys.readouterr().out


def test_cli_reports_bad_input_in_one_line_with_exit_code_2(tmp_path, capsys):
    _write_case(tmp_path)
    (tmp_path / "bad.nwk").write_text("((a,b),c,x);\n")
    code = main(
        ["estimate", "--alignment", str(tmp_path / "aln.fasta"), "--trees", str(tmp_path / "bad.nwk")]
    )
    err = capsys.readouterr().err
    assert code == 2 and "taxa do not match" in err and "bad.nwk, line 1" in err
    code = main(
        [
            "estimate",
            "--alignment",
            str(tmp_path / "aln.fasta"),
            "--trees",
            str(tmp_path / "trees.nwk"),
            "--methods",
            "xyz",
        ]
    )
    assert code == 2 and "unknown estimator" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()

"""The ``vision-attention`` command line: light imports, the CLI contract, and its commands."""

from __future__ import annotations

import subprocess
import sys
from functools import partial

import numpy as np

from core.testing import exit_code, one_line_error
from vision_attention.cli import main
from vision_attention.saliency.methods import METHODS
from vision_attention.updown.features import BottomUpRecord, write_bottom_up_tsv

_exit_code = partial(exit_code, main)


def test_import_and_every_help_never_import_torch_or_heavy_libraries():
    code = (
        "import sys\n"
        "import vision_attention, vision_attention.config, vision_attention.coordconv.config\n"
        "import vision_attention.updown.config, vision_attention.groupnorm, vision_attention.groupnorm.config\n"
        "from vision_attention.cli import main\n"
        "for argv in (['--help'], ['saliency-methods', '--help'], ['check-features', '--help'], ['reproduce', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ('torch', 'torchvision', 'captum', 'matplotlib', 'sklearn', 'skimage', 'scipy', 'mlxtend')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_saliency_methods_lists_the_registry(capsys):
    assert main(["saliency-methods"]) == 0
    assert capsys.readouterr().out.split() == list(METHODS)


def test_check_features_summarises_a_good_file_and_names_the_bad_line(tmp_path, capsys):
    record = BottomUpRecord("1", 10, 10, np.array([[0, 0, 5, 5]], np.float32), np.ones((1, 4), np.float32))
    path = write_bottom_up_tsv(tmp_path / "f.tsv", [record, record])
    assert main(["check-features", str(path)]) == 0
    assert "2 images" in capsys.readouterr().out
    path.write_text(path.read_text() + "broken\tline\n")
    assert _exit_code(["check-features", str(path)]) == 2
    one_line_error(capsys, "line 3", "tab-separated")
    assert _exit_code(["check-features", str(tmp_path / "none.tsv")]) == 2
    one_line_error(capsys, "none.tsv")


def test_reproduce_refuses_an_unknown_experiment_and_a_data_folder(tmp_path, capsys):
    assert _exit_code(["reproduce", "--only", "gans", "--out", str(tmp_path / "r")]) == 2
    one_line_error(capsys, "gans")
    assert (
        _exit_code(
            ["reproduce", "--only", "coordconv", "--data", str(tmp_path), "--out", str(tmp_path / "r")]
        )
        == 2
    )
    one_line_error(capsys, "--data")
    assert not (tmp_path / "r").exists()

"""The workspace wiring: ten members, each separately built, versioned and installable."""

import ast
import re
import subprocess
import sys
import tomllib
import zipfile

import pytest

from .conftest import MEMBERS, ROOT, member_pyproject

EXPECTED = {
    "core",
    "survival",
    "molgraph",
    "neurosat",
    "gradest",
    "phylo-marglik",
    "hrl",
    "genmodels",
    "robust",
    "vision-attention",
}
IMPORT_NAMES = {name: name.replace("-", "_") for name in EXPECTED}


def test_the_ten_members_are_there():
    assert set(MEMBERS) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_member_metadata(name):
    project = member_pyproject(name)["project"]
    assert project["name"] == name
    assert re.fullmatch(r"\d+\.\d+\.\d+", project["version"])
    assert project["scripts"][name], "a CLI entry named like the distribution"
    assert (ROOT / "packages" / name / "README.md").read_text().strip()
    assert (ROOT / "packages" / name / "src" / IMPORT_NAMES[name] / "__init__.py").is_file()
    if name != "core":
        assert "core" in [re.split(r"[<>=!~ ;\[]", dep)[0] for dep in project["dependencies"]]


@pytest.mark.parametrize("name", sorted(EXPECTED - {"core"}))
def test_members_import_no_other_member_but_core(name):
    others = {IMPORT_NAMES[o] for o in EXPECTED - {name, "core"}}
    declared = {re.split(r"[<>=!~ ;\[]", d)[0] for d in member_pyproject(name)["project"]["dependencies"]}
    for source in (ROOT / "packages" / name / "src").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            modules = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            for module in modules:
                top = module.split(".")[0]
                if top in others:
                    assert top.replace("_", "-") in declared, f"{source} imports {top} without declaring it"


def test_root_is_a_virtual_workspace_with_the_dev_tools():
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert root["tool"]["uv"]["package"] is False
    assert root["tool"]["uv"]["workspace"]["members"] == ["packages/*"]
    dev = " ".join(root["dependency-groups"]["dev"])
    assert all(tool in dev for tool in ("pytest", "ruff", "hypothesis"))
    assert "--import-mode=importlib" in root["tool"]["pytest"]["ini_options"]["addopts"]
    assert (ROOT / "uv.lock").is_file()


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "uv run pytest" in readme
    assert "uv sync --all-packages --locked" in ci
    assert ci.strip().splitlines()[-1] == "uv run pytest"


def test_every_member_builds_a_wheel_with_its_sources(wheels):
    for name, wheel in wheels.items():
        names = zipfile.ZipFile(wheel).namelist()
        assert f"{IMPORT_NAMES[name]}/__init__.py" in names, f"{wheel.name} lacks its package"
        assert not any(n.startswith(("tests/", "packages/")) for n in names)


def test_core_and_one_domain_wheel_install_alone_outside_the_workspace(uv, wheels, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, cwd=tmp_path)
    python = venv / "bin" / "python"
    done = subprocess.run(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(python),
            str(wheels["core"]),
            str(wheels["gradest"]),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    probe = (
        "import core, gradest, torch; from core import save_checkpoint; "
        "assert '/src/core/' not in core.__file__, core.__file__; print(core.__file__)"
    )
    done = subprocess.run([str(python), "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "site-packages" in done.stdout
    cli = subprocess.run([str(venv / "bin" / "gradest"), "--help"], capture_output=True, text=True)
    assert cli.returncode == 0 and "usage: gradest" in cli.stdout

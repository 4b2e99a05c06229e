import os
import shutil
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MEMBERS = sorted(p.name for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").is_file())


def member_pyproject(name: str) -> dict:
    return tomllib.loads((ROOT / "packages" / name / "pyproject.toml").read_text())


@pytest.fixture(scope="session")
def uv() -> str:
    """The uv binary: `uv run` exports it as $UV; otherwise the one on PATH."""
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        pytest.fail("uv is needed for the workspace tests (pip install uv)")
    return found


@pytest.fixture(scope="session")
def wheels(uv, tmp_path_factory) -> dict[str, Path]:
    """Every member built once into one folder, by distribution name."""
    import subprocess

    out = tmp_path_factory.mktemp("dist")
    built: dict[str, Path] = {}
    for name in MEMBERS:
        done = subprocess.run(
            [uv, "build", "--package", name, "--wheel", "--out-dir", str(out / name)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, f"uv build --package {name} failed:\n{done.stderr[-3000:]}"
        (wheel,) = (out / name).glob("*.whl")
        built[name] = wheel
    return built

"""The conventions every member keeps (DESIGN.md, "Conventions that every package keeps"), checked on all ten.

- `import <pkg>` and every `<pkg> ... --help` never import torch (start-up stays fast);
- every CLI validates the shared options: a bad ``--seed`` or ``--device`` is one line on stderr, exit 2;
- ``--out`` given a file is refused where a sub-command has ``--out``;
- every member ships its LICENSE in the wheel and bounds its core dependency.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile

import pytest

from .conftest import MEMBERS, member_pyproject

IMPORT_NAMES = {name: name.replace("-", "_") for name in MEMBERS}

# Runs in a fresh interpreter: builds the package's CLI parser (as `<pkg> --help` does), renders the help
# of every sub-command, and feeds every sub-command that has them a bad --seed, a bad --device and a file
# as --out. Prints one JSON line.
_PROBE = r"""
import argparse, contextlib, io, json, sys, tempfile
module = sys.argv[1]
captured = []
original = argparse.ArgumentParser.parse_known_args
def capture(self, args=None, namespace=None):
    if not captured:
        captured.append(self)
        raise SystemExit(0)
    return original(self, args, namespace)
argparse.ArgumentParser.parse_known_args = capture
__import__(module)
imported_torch = "torch" in sys.modules
cli = __import__(module + ".cli", fromlist=["main"])
try:
    cli.main(["--help"])
except SystemExit:
    pass
argparse.ArgumentParser.parse_known_args = original
parser = captured[0]
subs = {}
for action in parser._actions:
    if isinstance(action, argparse._SubParsersAction):
        subs.update(action.choices)
parser.format_help()
checks = {}
afile = tempfile.NamedTemporaryFile(suffix=".csv", delete=False).name
for name, sub in subs.items():
    sub.format_help()
    options = {o for action in sub._actions for o in action.option_strings}
    for flag, value in (("--seed", "-1"), ("--device", "gpu7"), ("--out", afile)):
        if flag not in options:
            continue
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                parser.parse_args([name, flag, value])
                code = 0
            except SystemExit as stop:
                code = stop.code
        checks[f"{name} {flag} {value if flag != '--out' else 'FILE'}"] = [code, err.getvalue().strip().splitlines()]
print(json.dumps({"torch_on_import": imported_torch, "torch_on_help": "torch" in sys.modules,
                  "commands": sorted(subs), "checks": checks}))
"""


@pytest.fixture(scope="module")
def probes() -> dict[str, dict]:
    found = {}
    for name in MEMBERS:
        if name == "core":
            continue
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, IMPORT_NAMES[name]], capture_output=True, text=True
        )
        assert done.returncode == 0, f"{name}: probing its CLI failed:\n{done.stderr[-2000:]}"
        found[name] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


@pytest.mark.parametrize("name", [m for m in MEMBERS if m != "core"])
def test_import_and_every_help_stay_free_of_torch(probes, name):
    probe = probes[name]
    assert not probe["torch_on_import"], f"`import {IMPORT_NAMES[name]}` imports torch"
    assert not probe["torch_on_help"], f"`{name} --help` (or a sub-command's help) imports torch"


@pytest.mark.parametrize("name", [m for m in MEMBERS if m != "core"])
def test_bad_shared_options_end_in_one_line_and_exit_2(probes, name):
    for case, (code, lines) in probes[name]["checks"].items():
        assert code == 2, f"{name} {case}: exit code {code}"
        assert len(lines) == 1, f"{name} {case}: {len(lines)} lines on stderr: {lines}"
        flag = case.split()[1]
        assert f"argument {flag}" in lines[0], f"{name} {case}: the error does not name {flag}: {lines[0]}"


@pytest.mark.parametrize("name", [m for m in MEMBERS if m != "core"])
def test_every_experiment_command_has_the_shared_options(probes, name):
    if "reproduce" in probes[name]["commands"]:
        checked = {case.split()[1] for case in probes[name]["checks"] if case.startswith("reproduce ")}
        assert checked == {"--seed", "--device", "--out"}


@pytest.mark.parametrize("name", MEMBERS)
def test_members_bound_core_and_ship_their_licence(name, wheels):
    if name != "core":
        (dep,) = [d for d in member_pyproject(name)["project"]["dependencies"] if re.match(r"core\b", d)]
        assert re.fullmatch(r"core>=\d+\.\d+,<\d+\.\d+", dep.replace(" ", "")), dep
    with zipfile.ZipFile(wheels[name]) as wheel:
        licences = [n for n in wheel.namelist() if n.endswith("licenses/LICENSE")]
    assert licences, f"{name}'s wheel carries no LICENSE"


_SHADOW_PROBE = r"""
import importlib, pathlib, sys, types
name = sys.argv[1]
package = importlib.import_module(name)
folder = pathlib.Path(package.__file__).parent
exports = getattr(package, "__all__", [])
shadowed = [n for n in exports if (folder / f"{n}.py").exists() or (folder / n / "__init__.py").exists()]
for n in shadowed:
    importlib.import_module(f"{name}.{n}")
print([n for n in shadowed if isinstance(getattr(package, n), types.ModuleType)])
"""


@pytest.mark.parametrize("name", MEMBERS)
def test_an_export_named_like_a_submodule_is_not_hidden_by_importing_it(name):
    done = subprocess.run(
        [sys.executable, "-c", _SHADOW_PROBE, IMPORT_NAMES[name]], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]", f"{name}: exports hidden by their submodule: {done.stdout.strip()}"

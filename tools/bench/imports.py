"""Benchmark: start-up cost of every package — `import <pkg>` and `<pkg> --help` — now vs a git ref.

Each measurement is a fresh interpreter (what a user pays for every command), timed as wall seconds
over several runs (median), and reports which heavy libraries the command loaded (torch,
torch_geometric, rdkit, sklearn, scipy, matplotlib, sksurv, dendropy, pysat). With `--before REF` the
same measurements run on a git worktree of REF in the same session (its sources put first on
`sys.path`), so the ratio before/after is measured on one machine under one load.

    uv run python tools/bench/imports.py [--before 5711314] [--repeats 5] [--out runs/bench]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "core": "core",
    "survival": "survival",
    "molgraph": "molgraph",
    "neurosat": "neurosat",
    "gradest": "gradest",
    "phylo-marglik": "phylo_marglik",
    "hrl": "hrl",
    "genmodels": "genmodels",
    "robust": "robust",
    "vision-attention": "vision_attention",
}
HEAVY = ("torch", "torch_geometric", "rdkit", "sklearn", "scipy", "matplotlib", "sksurv", "dendropy", "pysat")

_PROBE = """
import sys, time
start = time.perf_counter()
{body}
elapsed = time.perf_counter() - start
heavy = [name for name in {heavy!r} if name in sys.modules]
print("RESULT", elapsed, ",".join(heavy) or "-")
"""

_HELP = """
from {module}.cli import main
try:
    main(["--help"])
except SystemExit:
    pass
"""


def probe(body: str, sources: list[str] | None) -> tuple[float, float, list[str]]:
    """Run `body` in a fresh interpreter; (process wall s, in-process s, heavy modules loaded)."""
    code = _PROBE.format(body=body, heavy=HEAVY)
    if sources:
        code = f"import sys; sys.path[:0] = {sources!r}\n" + code
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tempfile.gettempdir()
    )
    wall = time.perf_counter() - began
    line = [row for row in done.stdout.splitlines() if row.startswith("RESULT")]
    if done.returncode != 0 or not line:
        raise RuntimeError(f"probe failed: {done.stderr.strip().splitlines()[-1:]}")
    _, seconds, heavy = line[0].split(" ")
    return wall, float(seconds), [name for name in heavy.split(",") if name != "-"]


def measure_tree(sources: list[str] | None, repeats: int) -> dict[str, dict[str, object]]:
    """Median wall seconds of `import <pkg>` and `<pkg> --help` for every package, and what they load."""
    results: dict[str, dict[str, object]] = {}
    for distribution, module in PACKAGES.items():
        row: dict[str, object] = {}
        cases = {"import": f"import {module}"}
        if distribution != "core":
            cases["help"] = _HELP.format(module=module)
        for case, body in cases.items():
            try:
                runs = [probe(body, sources) for _ in range(repeats)]
            except RuntimeError as exc:
                row[case] = None
                row[f"{case}_error"] = str(exc)
                continue
            row[case] = statistics.median(run[0] for run in runs)
            row[f"{case}_loads"] = runs[-1][2]
        results[distribution] = row
    return results


def worktree(ref: str, folder: Path) -> list[str]:
    """Check `ref` out into `folder`; the `src` folders of its packages, for `sys.path`."""
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(folder), ref],
        check=True,
        capture_output=True,
    )
    return [str(path) for path in sorted((folder / "packages").glob("*/src"))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--before", default=None, help="git ref to compare with (e.g. the commit before a change)"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("runs/bench"))
    args = parser.parse_args()
    after = measure_tree(None, args.repeats)
    before = None
    if args.before:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "before"
            try:
                before = measure_tree(worktree(args.before, folder), args.repeats)
            finally:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(folder)],
                    capture_output=True,
                )
    lines = [
        "| package | import s | --help s | loads on --help |"
        + (" before: import s | before: --help s | before: loads |" if before else "")
    ]
    lines.append("|---|---|---|---|" + ("---|---|---|" if before else ""))
    for name, row in after.items():
        cells = [
            name,
            _seconds(row.get("import")),
            _seconds(row.get("help")),
            _loads(row.get("help_loads", row.get("import_loads"))),
        ]
        if before:
            old = before[name]
            cells += [
                _seconds(old.get("import")),
                _seconds(old.get("help")),
                _loads(old.get("help_loads", old.get("import_loads"))),
            ]
        lines.append("| " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "imports.json").write_text(
        json.dumps({"after": after, "before": before, "before_ref": args.before}, indent=2)
    )
    (args.out / "imports.md").write_text(table + "\n")
    return 0


def _seconds(row: dict[str, object], case: str) -> str:
    if case not in row:
        return "n/a"
    value = row[case]
    return "failed" if value is None else f"{value:.2f}"  # type: ignore[str-format]


def _loads(value: object) -> str:
    return ", ".join(value) if value else "(none)"  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main())

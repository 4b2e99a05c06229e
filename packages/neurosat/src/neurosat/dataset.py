"""Problem sets on disk: one DIMACS file per problem plus an ``index.json`` listing them.

The index is written last and atomically, so a folder with an index is always complete; a run
that died half-way leaves no index and `load_problems` refuses the folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from core.checkpoint import atomic_write
from core.errors import InputError
from neurosat.cnf import Problem, read_dimacs, write_dimacs

__all__ = ["INDEX_NAME", "load_problems", "save_problems"]

INDEX_NAME = "index.json"


def save_problems(problems: Sequence[Problem], folder: str | os.PathLike[str]) -> Path:
    """Write each problem to ``<folder>/<i:06d>.cnf`` and the index; return the index path.

    If writing fails part-way, the files already written are removed again and the error is raised.
    """
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    entries = []
    try:
        for i, problem in enumerate(problems):
            file_name = f"{i:06d}.cnf"
            write_dimacs(problem, target / file_name)
            entries.append(
                {
                    "file": file_name,
                    "name": problem.name,
                    "n_vars": problem.n_vars,
                    "n_clauses": problem.n_clauses,
                    "is_sat": problem.is_sat,
                }
            )
    except BaseException:
        for entry in entries:
            (target / entry["file"]).unlink(missing_ok=True)
        raise
    payload = json.dumps({"format": "neurosat-dimacs-folder/1", "problems": entries}, indent=1)
    return atomic_write(target / INDEX_NAME, lambda tmp: tmp.write_text(payload))


def load_problems(folder: str | os.PathLike[str]) -> list[Problem]:
    """Read a folder written by `save_problems` (labels and names come from the index).

    A folder of ``*.cnf`` files without an index is also read (sorted by name, labels taken
    from ``c label`` comments when present).

    Raises:
        InputError: missing folder, unreadable index, a listed file missing or malformed, or an
            index whose counts disagree with the file.
    """
    source = Path(folder)
    if not source.is_dir():
        raise InputError("problem folder not found", item=str(source))
    index_path = source / INDEX_NAME
    if not index_path.is_file():
        files = sorted(source.glob("*.cnf"))
        if not files:
            raise InputError("folder holds neither an index nor .cnf files", item=str(source))
        return [read_dimacs(path) for path in files]
    try:
        entries = json.loads(index_path.read_text())["problems"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError("unreadable problem index", item=f"{index_path}: {exc}") from exc
    problems = []
    for row, entry in enumerate(entries):
        path = source / entry["file"]
        problem = read_dimacs(path)
        if problem.n_vars != entry["n_vars"] or problem.n_clauses != entry["n_clauses"]:
            raise InputError(
                "index disagrees with the file",
                item=f"{index_path} entry {row} ({path.name})",
                expected=f"{entry['n_vars']} vars, {entry['n_clauses']} clauses",
            )
        problems.append(Problem(problem.n_vars, problem.clauses, entry["is_sat"], entry["name"]))
    return problems

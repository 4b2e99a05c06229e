"""Problem sets on disk: one DIMACS file per problem plus an ``index.json`` listing them.

The index is written last and atomically, so a folder with an index is always complete; a run
that died half-way leaves no index and `load_problems` refuses the folder.

Any other folder of ``*.cnf`` files is read too, in natural order of the file names (``x-2.cnf``
before ``x-10.cnf``). Its labels, when it has any, come from one of:

- a comment line ``c label sat`` or ``c label unsat`` in each file (what `write_dimacs` writes);
- a CSV given as ``labels=`` (``neurosat evaluate --labels FILE``) with a header row and the
  columns ``file,label``: the file name as in the folder, and ``sat``/``unsat`` (or ``1``/``0``).
  A CSV label overrides a comment label.

A folder is either fully labelled or not labelled at all; a partly labelled one is refused
naming the first file without a label.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

from core.checkpoint import atomic_write
from core.errors import InputError
from neurosat.cnf import Problem, read_dimacs, write_dimacs

__all__ = ["INDEX_NAME", "cnf_files", "load_problems", "natural_key", "read_labels", "save_problems"]

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


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders digit runs by value: ``uf20-2`` < ``uf20-10`` < ``uf20-100``."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name) if part)


def cnf_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The ``*.cnf`` files of `folder` in natural order of their names.

    Raises:
        InputError: the folder is missing, is a file, or holds no ``.cnf`` file.
    """
    source = Path(folder)
    if source.is_file():
        raise InputError("expected a folder of DIMACS files, got a file", item=str(source))
    if not source.is_dir():
        raise InputError("problem folder not found", item=str(source))
    files = sorted((p for p in source.glob("*.cnf") if p.is_file()), key=lambda p: natural_key(p.name))
    if not files:
        raise InputError("folder holds neither an index nor .cnf files", item=str(source))
    return files


_LABEL_WORDS = {"sat": True, "1": True, "true": True, "unsat": False, "0": False, "false": False}


def read_labels(path: str | os.PathLike[str]) -> dict[str, bool]:
    """Labels from a CSV with a header and the columns ``file,label`` (``sat``/``unsat``/``1``/``0``).

    Raises:
        InputError: a missing file, missing columns, or a bad/duplicate row (named by line).
    """
    source = Path(path)
    if not source.is_file():
        raise InputError("labels CSV not found", item=str(source))
    labels: dict[str, bool] = {}
    with source.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"file", "label"} <= set(reader.fieldnames):
            raise InputError(
                "labels CSV needs a header with the columns file,label",
                item=f"{source}:1",
                expected="file,label",
            )
        for row in reader:
            where = f"{source}:{reader.line_num}"
            name, word = (row.get("file") or "").strip(), (row.get("label") or "").strip().lower()
            if word not in _LABEL_WORDS:
                raise InputError("bad label", item=f"{where}: {row.get('label')!r}", expected="sat or unsat")
            if name in labels:
                raise InputError("file listed twice", item=f"{where}: {name!r}")
            labels[name] = _LABEL_WORDS[word]
    return labels


def load_problems(
    folder: str | os.PathLike[str], *, labels: str | os.PathLike[str] | None = None
) -> list[Problem]:
    """Read a folder written by `save_problems`, or any folder of ``*.cnf`` files (see the module doc).

    Args:
        labels: a ``file,label`` CSV labelling the files of a folder without an index.

    Raises:
        InputError: missing folder, unreadable index, a listed file missing or malformed, an
            index whose counts disagree with the file, a CSV naming a file that is not in the
            folder, or a folder that is only partly labelled.
    """
    source = Path(folder)
    if source.is_file():
        raise InputError("expected a folder of DIMACS files, got a file", item=str(source))
    if not source.is_dir():
        raise InputError("problem folder not found", item=str(source))
    index_path = source / INDEX_NAME
    if not index_path.is_file():
        return _plain_folder(source, labels)
    if labels is not None:
        raise InputError(
            "a folder with an index.json takes its labels from the index, not a CSV", item=str(labels)
        )
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


def _plain_folder(source: Path, labels: str | os.PathLike[str] | None) -> list[Problem]:
    files = cnf_files(source)
    problems = [read_dimacs(path) for path in files]
    if labels is not None:
        table = read_labels(labels)
        names = {path.name for path in files}
        stray = sorted(set(table) - names, key=natural_key)
        if stray:
            raise InputError(
                "labels CSV names a file that is not in the folder", item=f"{labels}: {stray[0]!r}"
            )
        problems = [
            p.with_label(table[path.name]) if path.name in table else p for p, path in zip(problems, files)
        ]
    known = [p.is_sat is not None for p in problems]
    if any(known) and not all(known):
        first = files[known.index(False)]
        raise InputError(
            "folder is only partly labelled (label every file or none)",
            item=str(first),
            expected="a 'c label sat|unsat' line in each file, or a --labels CSV covering every file",
        )
    return problems

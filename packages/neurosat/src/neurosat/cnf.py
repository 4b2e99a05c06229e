"""CNF formulas: the `Problem` record, DIMACS reading/writing, PySAT `CNF` conversion, evaluation.

Literals use the DIMACS / PySAT convention: variable ``v`` (1-based) is the literal ``v``, its
negation is ``-v``. A model (assignment) is a list of signed literals, one per variable, exactly
what ``pysat.solvers.Solver.get_model()`` returns.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from core.checkpoint import atomic_write
from core.errors import InputError

if TYPE_CHECKING:
    from pysat.formula import CNF

__all__ = [
    "Problem",
    "evaluate",
    "make_problem",
    "parse_dimacs",
    "problem_from_cnf",
    "read_dimacs",
    "to_dimacs",
    "to_solution",
    "write_dimacs",
]


@dataclass(frozen=True)
class Problem:
    """One CNF formula, optionally labelled.

    Attributes:
        n_vars: number of variables; literals range over ``±1 .. ±n_vars``.
        clauses: the clauses, each a tuple of non-zero signed literals.
        is_sat: the satisfiability label (``None`` when unknown).
        name: a free identifier (file name, ``"sr40-17-unsat"``).

    Build validated instances with `make_problem`, `read_dimacs` or `problem_from_cnf`.
    """

    n_vars: int
    clauses: tuple[tuple[int, ...], ...]
    is_sat: bool | None = None
    name: str = ""

    @property
    def n_clauses(self) -> int:
        return len(self.clauses)

    @property
    def n_literal_occurrences(self) -> int:
        """Edges of the literal-clause graph."""
        return sum(len(clause) for clause in self.clauses)

    def to_cnf(self) -> CNF:
        """The formula as a PySAT `CNF` (``nv`` set to `n_vars`)."""
        from pysat.formula import CNF

        cnf = CNF(from_clauses=[list(clause) for clause in self.clauses])
        cnf.nv = self.n_vars
        return cnf

    def with_label(self, is_sat: bool | None) -> Problem:
        return replace(self, is_sat=is_sat)


def make_problem(
    n_vars: int,
    clauses: Iterable[Sequence[int]],
    *,
    is_sat: bool | None = None,
    name: str = "",
    source: str = "clauses",
) -> Problem:
    """A validated `Problem`.

    Raises:
        InputError: `n_vars` < 1, no clauses, an empty clause, a zero or non-integer literal, or a
            variable outside ``1..n_vars``; the message names the clause (0-based index in `source`).
    """
    if isinstance(n_vars, bool) or not isinstance(n_vars, int) or n_vars < 1:
        raise InputError("number of variables must be a positive integer", item=f"{source}: {n_vars!r}")
    checked: list[tuple[int, ...]] = []
    for index, clause in enumerate(clauses):
        literals = tuple(clause)
        if not literals:
            raise InputError(
                "empty clause (a formula with one is trivially UNSAT and has no literal-clause edge)",
                item=f"{source}: clause {index}",
            )
        for literal in literals:
            if isinstance(literal, bool) or not isinstance(literal, int):
                raise InputError("literal is not an integer", item=f"{source}: clause {index}: {literal!r}")
            if literal == 0 or abs(literal) > n_vars:
                raise InputError(
                    "variable out of range",
                    item=f"{source}: clause {index}: literal {literal}",
                    expected=f"±1 .. ±{n_vars}",
                )
        checked.append(literals)
    if not checked:
        raise InputError("formula has no clauses", item=source)
    return Problem(n_vars=n_vars, clauses=tuple(checked), is_sat=is_sat, name=name)


def problem_from_cnf(cnf: CNF, *, is_sat: bool | None = None, name: str = "") -> Problem:
    """A `Problem` from a PySAT `CNF`; the variable count is ``max(cnf.nv, largest |literal|)``."""
    from pysat.formula import CNF

    if not isinstance(cnf, CNF):
        raise InputError("expected a pysat.formula.CNF", item=type(cnf).__name__)
    largest = max((abs(lit) for clause in cnf.clauses for lit in clause), default=0)
    n_vars = max(int(cnf.nv or 0), largest)
    return make_problem(n_vars, cnf.clauses, is_sat=is_sat, name=name, source=name or "CNF")


def parse_dimacs(text: str, *, source: str = "<string>") -> Problem:
    """Parse DIMACS CNF text.

    Accepts comment lines (``c ...``), one ``p cnf <vars> <clauses>`` header, clauses spread over
    any number of lines and each ended by ``0``, and the SATLIB ``%`` end marker. A comment
    ``c label sat`` / ``c label unsat`` (written by `write_dimacs`) sets the label.

    Raises:
        InputError: naming ``source:line:column`` for a missing/malformed/duplicate header, a
            non-integer token, a variable out of range, an empty clause, an unterminated last
            clause or a clause count that differs from the header's.
    """
    header: tuple[int, int] | None = None
    clauses: list[tuple[int, ...]] = []
    current: list[int] = []
    is_sat: bool | None = None
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("c"):
            words = line.split()
            if len(words) == 3 and words[1] == "label" and words[2] in ("sat", "unsat"):
                is_sat = words[2] == "sat"
            continue
        if line.startswith("%"):
            break
        if line.startswith("p"):
            if header is not None:
                raise InputError("second 'p cnf' header", item=f"{source}:{line_no}")
            header = _parse_header(line, f"{source}:{line_no}")
            continue
        if header is None:
            raise InputError(
                "clause before the 'p cnf' header",
                item=f"{source}:{line_no}",
                expected="p cnf <vars> <clauses>",
            )
        column = 1
        for token in line.split():
            column = raw.index(token, column - 1) + 1
            try:
                literal = int(token)
            except ValueError:
                raise InputError(
                    "not an integer literal", item=f"{source}:{line_no}:{column}: {token!r}"
                ) from None
            if literal == 0:
                if not current:
                    raise InputError("empty clause", item=f"{source}:{line_no}:{column}")
                clauses.append(tuple(current))
                current = []
            elif abs(literal) > header[0]:
                raise InputError(
                    "variable out of range",
                    item=f"{source}:{line_no}:{column}: {literal}",
                    expected=f"±1 .. ±{header[0]} (from the header)",
                )
            else:
                current.append(literal)
            column += len(token)
    if header is None:
        raise InputError("no 'p cnf' header", item=source, expected="p cnf <vars> <clauses>")
    if current:
        raise InputError("last clause is not terminated by 0", item=f"{source}: literals {current}")
    if len(clauses) != header[1]:
        raise InputError(
            "clause count differs from the header", item=source, expected=f"{header[1]}, found {len(clauses)}"
        )
    return make_problem(header[0], clauses, is_sat=is_sat, name=Path(source).stem, source=source)


def _parse_header(line: str, where: str) -> tuple[int, int]:
    words = line.split()
    if len(words) != 4 or words[0] != "p" or words[1] != "cnf":
        raise InputError("malformed header", item=f"{where}: {line!r}", expected="p cnf <vars> <clauses>")
    try:
        n_vars, n_clauses = int(words[2]), int(words[3])
    except ValueError:
        raise InputError("header counts are not integers", item=f"{where}: {line!r}") from None
    if n_vars < 1 or n_clauses < 1:
        raise InputError("header counts must be positive", item=f"{where}: {line!r}")
    return n_vars, n_clauses


def read_dimacs(path: str | os.PathLike[str]) -> Problem:
    """Read a DIMACS CNF file (see `parse_dimacs`); the problem is named after the file stem."""
    source = Path(path)
    if source.is_dir():
        raise InputError("expected a DIMACS file, got a folder", item=str(source))
    if not source.is_file():
        raise InputError("DIMACS file not found", item=str(source))
    try:
        text = source.read_text()
    except UnicodeDecodeError as exc:
        raise InputError("DIMACS file is not text", item=f"{source}: {exc}") from exc
    return parse_dimacs(text, source=str(source))


def to_dimacs(problem: Problem) -> str:
    """DIMACS text of `problem`, with a ``c label`` comment when it is labelled."""
    lines = []
    if problem.name:
        lines.append(f"c {problem.name}")
    if problem.is_sat is not None:
        lines.append(f"c label {'sat' if problem.is_sat else 'unsat'}")
    lines.append(f"p cnf {problem.n_vars} {problem.n_clauses}")
    lines.extend(" ".join(map(str, clause)) + " 0" for clause in problem.clauses)
    return "\n".join(lines) + "\n"


def write_dimacs(problem: Problem, path: str | os.PathLike[str]) -> Path:
    """Write `problem` as DIMACS atomically (no half-written file on failure)."""
    text = to_dimacs(problem)
    return atomic_write(path, lambda tmp: tmp.write_text(text))


def to_solution(assignment: Sequence[int] | None) -> str:
    """SAT-competition result text: ``s SATISFIABLE`` + ``v <literals> 0``, or ``s UNKNOWN``."""
    if assignment is None:
        return "s UNKNOWN\n"
    return "s SATISFIABLE\nv " + " ".join(map(str, assignment)) + " 0\n"


def evaluate(problem: Problem, model: Sequence[int]) -> bool:
    """Whether the signed-literal `model` satisfies every clause of `problem`.

    Args:
        model: signed literals (PySAT style); a variable absent from it is false in no clause,
            i.e. clauses are satisfied only by literals that `model` makes true.
    """
    true = set(model)
    return all(any(literal in true for literal in clause) for clause in problem.clauses)

"""DNA alignments: reading (NEXUS, FASTA, PHYLIP via DendroPy) and site-pattern compression.

Tips enter Felsenstein pruning as partial-likelihood vectors over the states A, C, G, T:
an observed base is a one-hot vector, an IUPAC ambiguity code has a one for every base it
allows, and gaps / ``?`` / ``N`` / ``X`` are fully unknown (all ones), the usual treatment in
MrBayes, BEAST and PhyML (``X`` is accepted as the common "unknown" code; DendroPy reads it as
``N``, and so does this package, explicitly). Any other character is refused naming the file,
line, taxon and column. Identical columns are merged into site patterns with integer weights.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.errors import InputError

__all__ = ["STATES", "Alignment", "SitePatterns", "compress_patterns", "read_alignment"]

STATES = "ACGT"

# IUPAC nucleotide codes -> allowed bases; gap and missing are fully unknown.
_CODES: dict[str, str] = {
    "A": "A",
    "C": "C",
    "G": "G",
    "T": "T",
    "U": "T",
    "R": "AG",
    "Y": "CT",
    "M": "AC",
    "W": "AT",
    "S": "CG",
    "K": "GT",
    "V": "ACG",
    "H": "ACT",
    "D": "AGT",
    "B": "CGT",
    "N": "ACGT",
    "X": "ACGT",
    "?": "ACGT",
    "-": "ACGT",
    ".": "ACGT",
}

EXPECTED_CHARACTERS = "A, C, G, T, U, an IUPAC ambiguity code, '-', '?', 'N' or 'X' (unknown)"

_SCHEMAS = {
    ".nex": "nexus",
    ".nexus": "nexus",
    ".nxs": "nexus",
    ".fa": "fasta",
    ".fasta": "fasta",
    ".fas": "fasta",
    ".fna": "fasta",
    ".phy": "phylip",
    ".phylip": "phylip",
}


@dataclass(frozen=True)
class Alignment:
    """Aligned DNA sequences.

    Attributes:
        taxa: taxon labels, in file order.
        sequences: one upper-case string per taxon, all of the same length.
        source: where the alignment came from (file path or a description), used in error messages.
    """

    taxa: tuple[str, ...]
    sequences: tuple[str, ...]
    source: str = "<memory>"

    def __post_init__(self) -> None:
        if len(self.taxa) != len(self.sequences):
            raise InputError("one sequence per taxon is required", item=self.source)
        if len(self.taxa) == 0:
            raise InputError("the alignment is empty (no taxa)", item=self.source)
        if len(set(self.taxa)) != len(self.taxa):
            dup = next(t for t in self.taxa if self.taxa.count(t) > 1)
            raise InputError("duplicate taxon label in alignment", item=f"{self.source}: {dup!r}")
        lengths = {len(s) for s in self.sequences}
        if lengths == {0}:
            raise InputError("the alignment is empty (no sites)", item=self.source)
        if len(lengths) != 1:
            bad = next(t for t, s in zip(self.taxa, self.sequences) if len(s) != len(self.sequences[0]))
            raise InputError(
                "sequences differ in length",
                item=f"{self.source}: taxon {bad!r}",
                expected=f"{len(self.sequences[0])} sites like taxon {self.taxa[0]!r}",
            )
        for taxon, seq in zip(self.taxa, self.sequences):
            for column, char in enumerate(seq):
                if char.upper() not in _CODES:
                    raise InputError(
                        f"unknown nucleotide character {char!r}",
                        item=f"{self.source}: taxon {taxon!r}, column {column + 1}",
                        expected=EXPECTED_CHARACTERS,
                    )

    @property
    def n_sites(self) -> int:
        return len(self.sequences[0])

    @classmethod
    def from_dict(cls, sequences: dict[str, str], source: str = "<memory>") -> Alignment:
        """Build from ``{taxon: sequence}`` (insertion order kept)."""
        return cls(tuple(sequences), tuple(s.upper() for s in sequences.values()), source)


@dataclass(frozen=True)
class SitePatterns:
    """Compressed alignment: the distinct columns and how often each occurs.

    Attributes:
        taxa: taxon labels (row order of `tip_partials`).
        tip_partials: (n_taxa, n_patterns, 4) float64, 1 where a base is allowed at a tip.
        weights: (n_patterns,) float64, number of alignment columns with that pattern.
    """

    taxa: tuple[str, ...]
    tip_partials: torch.Tensor
    weights: torch.Tensor

    @property
    def n_patterns(self) -> int:
        return int(self.weights.shape[0])

    @property
    def n_sites(self) -> int:
        return int(self.weights.sum().item())

    def subset(self, taxa: tuple[str, ...]) -> SitePatterns:
        """The same patterns with rows reordered to `taxa` (which must all be present)."""
        index = {t: i for i, t in enumerate(self.taxa)}
        rows = [index[t] for t in taxa]
        return SitePatterns(tuple(taxa), self.tip_partials[rows], self.weights)


def compress_patterns(alignment: Alignment) -> SitePatterns:
    """Merge identical alignment columns into weighted site patterns.

    Returns:
        `SitePatterns` whose weights sum to ``alignment.n_sites``.
    """
    codes = sorted(_CODES)
    code_index = {c: i for i, c in enumerate(codes)}
    matrix = np.array(
        [[code_index[c] for c in seq.upper()] for seq in alignment.sequences], dtype=np.int64
    )  # (taxa, sites)
    # Codes with the same state set are the same pattern: map each code to a canonical one.
    canonical = np.array([code_index[min(c for c in codes if _CODES[c] == _CODES[k])] for k in codes])
    matrix = canonical[matrix]
    columns, counts = np.unique(matrix.T, axis=0, return_counts=True)  # (patterns, taxa)
    table = np.zeros((len(codes), 4))
    for c, i in code_index.items():
        for base in _CODES[c]:
            table[i, STATES.index(base)] = 1.0
    partials = table[columns.T]  # (taxa, patterns, 4)
    return SitePatterns(
        taxa=alignment.taxa,
        tip_partials=torch.from_numpy(partials).to(torch.float64),
        weights=torch.from_numpy(counts.astype(np.float64)),
    )


def read_alignment(path: str | os.PathLike[str], schema: str | None = None) -> Alignment:
    """Read a DNA alignment file with DendroPy.

    Characters are checked first by the package itself, so an unknown one is reported with the
    file, line, taxon and column (1-based, counted in that taxon's sequence). A NEXUS file that
    also holds a TREES block is read as an alignment and a `UserWarning` says its trees were
    ignored (read them with `phylo_marglik.read_trees`).

    Args:
        path: a NEXUS (``.nex``), FASTA (``.fa``/``.fasta``) or PHYLIP (``.phy``) file.
        schema: "nexus", "fasta" or "phylip"; guessed from the suffix when omitted.

    Raises:
        InputError: missing file, unknown format, a parse error (with the line DendroPy reports),
            an empty alignment, unequal lengths or unknown characters (naming taxon and column).
    """
    import dendropy

    file = Path(path)
    if not file.is_file():
        raise InputError("alignment file not found", item=str(file))
    schema = schema or _SCHEMAS.get(file.suffix.lower())
    if schema not in {"nexus", "fasta", "phylip"}:
        raise InputError(
            "cannot tell the alignment format", item=str(file), expected="schema nexus, fasta or phylip"
        )
    if file.stat().st_size == 0:
        raise InputError("the alignment file is empty", item=str(file))
    text = file.read_text(errors="replace")
    check_characters(text, schema, str(file))
    try:
        kwargs = {"preserve_underscores": True} if schema == "nexus" else {}
        matrix = dendropy.DnaCharacterMatrix.get(data=text, schema=schema, **kwargs)
    except Exception as exc:
        line = getattr(exc, "line_num", None)
        where = f"{file}, line {line}" if line is not None else str(file)
        raise InputError(f"cannot parse {schema} alignment: {_first_line(exc)}", item=where) from exc
    taxa = tuple(str(t.label) for t in matrix.taxon_namespace if t in matrix)
    sequences = tuple(str(matrix[t]).upper() for t in matrix.taxon_namespace if t in matrix)
    if schema == "nexus":
        trees = _nexus_tree_count(text)
        if trees:
            import warnings

            warnings.warn(
                f"{file}: the TREES block ({trees} trees) is ignored when reading the alignment; "
                "read the trees with phylo_marglik.read_trees",
                stacklevel=2,
            )
    return Alignment(taxa, sequences, source=str(file))


_COMMENT = re.compile(r"\[[^\]]*\]")
_TREE_LINE = re.compile(r"^\s*u?tree\s", re.IGNORECASE)


def _nexus_tree_count(text: str) -> int:
    """Number of ``TREE name = ...`` statements inside ``BEGIN TREES`` blocks."""
    count, inside = 0, False
    for line in text.splitlines():
        low = line.strip().lower()
        if low.startswith("begin trees"):
            inside = True
        elif inside and low.startswith("end"):
            inside = False
        elif inside and _TREE_LINE.match(line):
            count += 1
    return count


def _sequence_lines(text: str, schema: str) -> list[tuple[int, str, str, int]]:
    """``(line number, taxon, sequence text, offset of the text in the line)`` for each line of
    sequence data; continuation lines of FASTA carry their record's taxon."""
    lines = text.splitlines()
    rows: list[tuple[int, str, str, int]] = []
    if schema == "fasta":
        taxon = ""
        for number, line in enumerate(lines, start=1):
            if line.startswith(">"):
                taxon = line[1:].strip()
            elif line.strip() and not line.startswith(";"):
                rows.append((number, taxon, line, 0))
        return rows
    if schema == "phylip":
        for number, line in enumerate(lines[1:], start=2):
            parts = line.split(None, 1)
            if len(parts) == 2:
                rows.append((number, parts[0], parts[1], len(line) - len(parts[1])))
        return rows
    # NEXUS comments ([...], possibly over several lines) become spaces, lines kept in place
    lines = _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text).splitlines()
    inside = False
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if not inside:
            inside = stripped.lower() == "matrix" or stripped.lower().startswith("matrix ")
            continue
        if stripped.startswith(";"):
            break
        body = stripped.rstrip(";")
        if body.startswith("'"):
            end = body.find("'", 1)
            taxon, seq = body[1:end], body[end + 1 :]
        else:
            taxon, _, seq = body.partition(" ")
            if not seq:
                taxon, _, seq = body.partition("\t")
        if seq.strip():
            rows.append((number, taxon, seq, line.find(seq)))
        if stripped.endswith(";"):
            break
    return rows


def check_characters(text: str, schema: str, source: str) -> None:
    """Refuse the first character that is not a nucleotide code, naming file, line, taxon and
    column (1-based within the taxon's sequence; whitespace and NEXUS ``[comments]`` skipped).

    Raises:
        InputError: on an unknown character.
    """
    columns: dict[str, int] = {}
    for number, taxon, seq, _ in _sequence_lines(text, schema):
        comment = False
        for char in seq:
            if char == "[":
                comment = True
            if comment:
                comment = char != "]"
                continue
            if char.isspace():
                continue
            columns[taxon] = columns.get(taxon, 0) + 1
            if char.upper() not in _CODES:
                raise InputError(
                    f"unknown nucleotide character {char!r}",
                    item=f"{source}, line {number}: taxon {taxon!r}, column {columns[taxon]}",
                    expected=EXPECTED_CHARACTERS,
                )


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    if not text:
        if type(exc).__name__ == "BlockTerminatedException":
            return "the MATRIX ended inside a sequence (is a sequence shorter than NCHAR?)"
        return type(exc).__name__
    return text[0]

"""DNA alignments: reading (NEXUS, FASTA, PHYLIP via DendroPy) and site-pattern compression.

Tips enter Felsenstein pruning as partial-likelihood vectors over the states A, C, G, T:
an observed base is a one-hot vector, an IUPAC ambiguity code has a one for every base it
allows, and gaps / ``?`` / ``N`` are fully unknown (all ones), the usual treatment in MrBayes,
BEAST and PhyML. Identical columns are merged into site patterns with integer weights.
"""

from __future__ import annotations

import os
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
    "?": "ACGT",
    "-": "ACGT",
    ".": "ACGT",
}

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
                        expected="A, C, G, T, U, an IUPAC ambiguity code, '-', '?' or 'N'",
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
    try:
        kwargs = {"preserve_underscores": True} if schema == "nexus" else {}
        matrix = dendropy.DnaCharacterMatrix.get(path=str(file), schema=schema, **kwargs)
    except Exception as exc:
        line = getattr(exc, "line_num", None)
        where = f"{file}, line {line}" if line is not None else str(file)
        raise InputError(f"cannot parse {schema} alignment: {_first_line(exc)}", item=where) from exc
    taxa = tuple(str(t.label) for t in matrix.taxon_namespace if t in matrix)
    sequences = tuple(str(matrix[t]).upper() for t in matrix.taxon_namespace if t in matrix)
    return Alignment(taxa, sequences, source=str(file))


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__

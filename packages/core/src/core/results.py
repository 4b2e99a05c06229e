"""Result tables: a list of dict rows, printed as markdown and saved as strict JSON next to plots.

Numbers stay numbers in the JSON: a `MeanSD` cell is ``{"mean": .., "sd": .., "n": ..}``, NaN and
infinities are ``null``, and every file carries a provenance block (`core.provenance.provenance`),
so a results folder can be read back by a machine and traced to the run that made it.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.files import atomic_write

__all__ = ["MeanSD", "ResultTable", "mean_sd"]

SCHEMA_VERSION = 2


@dataclass(frozen=True)
class MeanSD:
    """A mean and sample standard deviation over `n` finite values (``sd`` is ``None`` when n < 2).

    Shown as ``0.812 ± 0.013`` in markdown, stored as ``{"mean": 0.812, "sd": 0.013, "n": 5}``.
    """

    mean: float | None
    sd: float | None
    n: int
    digits: int = 3

    def __str__(self) -> str:
        if self.mean is None:
            return "n/a"
        if self.sd is None:
            return f"{self.mean:.{self.digits}f}"
        return f"{self.mean:.{self.digits}f} ± {self.sd:.{self.digits}f}"

    def to_json(self) -> dict[str, Any]:
        return {"mean": self.mean, "sd": self.sd, "n": self.n}


def mean_sd(values: Iterable[float | None], digits: int = 3) -> MeanSD:
    """Mean and sample sd (ddof=1) of the finite values; ``mean=None`` when there are none."""
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not finite:
        return MeanSD(None, None, 0, digits)
    mean = sum(finite) / len(finite)
    if len(finite) == 1:
        return MeanSD(mean, None, 1, digits)
    sd = math.sqrt(sum((v - mean) ** 2 for v in finite) / (len(finite) - 1))
    return MeanSD(mean, sd, len(finite), digits)


@dataclass
class ResultTable:
    """A named table of results.

    Attributes:
        name: a file-safe name (``"concordance"``), used for ``<name>.json`` / ``<name>.md``.
        rows: one dict per row; columns are the union of keys in first-seen order. Cells are
            numbers, strings, booleans, ``None``, `MeanSD` or lists of these.
        title: a heading shown above the markdown table.
        notes: free text shown under the table (units, protocol, what the paper reports).
        data: which data the numbers come from (a name, path or dict), shown and stored.
    """

    name: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    title: str = ""
    notes: str = ""
    data: Any = None

    def add(self, **row: Any) -> None:
        """Append one row."""
        self.rows.append(row)

    @property
    def columns(self) -> list[str]:
        seen: dict[str, None] = {}
        for row in self.rows:
            for key in row:
                seen.setdefault(key, None)
        return list(seen)

    def to_markdown(self, float_format: str = "{:.4g}") -> str:
        """The table as GitHub markdown, with its title, notes and data source."""
        columns = self.columns
        lines = []
        if self.title:
            lines += [f"### {self.title}", ""]
        if columns:
            lines.append("| " + " | ".join(columns) + " |")
            lines.append("|" + "|".join("---" for _ in columns) + "|")
            for row in self.rows:
                cells = [_format(row.get(column, ""), float_format) for column in columns]
                lines.append("| " + " | ".join(cells) + " |")
        else:
            lines.append("(no rows)")
        if self.notes:
            lines += ["", self.notes]
        if self.data is not None:
            lines += ["", f"Data: {_format(self.data, float_format)}"]
        return "\n".join(lines)

    def to_dict(self, provenance: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The JSON form: strict JSON types only (NaN/inf become ``None``)."""
        payload = {
            "schema_version": SCHEMA_VERSION,
            "name": self.name,
            "title": self.title,
            "notes": self.notes,
            "data": self.data,
            "columns": self.columns,
            "rows": self.rows,
            "provenance": dict(provenance) if provenance is not None else None,
        }
        return _strict(payload)

    def save(self, folder: str | os.PathLike[str], provenance: Mapping[str, Any] | None = None) -> Path:
        """Write ``<folder>/<name>.json`` (strict JSON) and ``<name>.md`` atomically; return the JSON path."""
        directory = Path(folder)
        payload = json.dumps(self.to_dict(provenance), indent=2, allow_nan=False)
        markdown = self.to_markdown() + "\n"
        atomic_write(directory / f"{self.name}.md", lambda tmp: tmp.write_text(markdown))
        return atomic_write(directory / f"{self.name}.json", lambda tmp: tmp.write_text(payload))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ResultTable:
        """Read a table written by `save` (cells that were `MeanSD` come back as `MeanSD`)."""
        data = json.loads(Path(path).read_text())
        rows = [{key: _revive(value) for key, value in row.items()} for row in data["rows"]]
        return cls(
            name=data["name"],
            rows=rows,
            title=data.get("title", ""),
            notes=data.get("notes", ""),
            data=data.get("data"),
        )


def _format(value: Any, float_format: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return float_format.format(value) if math.isfinite(value) else ""
    if isinstance(value, MeanSD):
        return str(value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_format(v, float_format)}" for k, v in value.items())
    if isinstance(value, Sequence) and not isinstance(value, str):
        return ", ".join(_format(v, float_format) for v in value)
    tolist = getattr(value, "tolist", None)  # NumPy and torch scalars and arrays
    if callable(tolist):
        return _format(tolist(), float_format)
    return str(value).replace("|", "\\|")


def _strict(value: Any) -> Any:
    """`value` with only JSON types: numbers stay numbers, non-finite floats become None."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, MeanSD):
        return _strict(value.to_json())
    if isinstance(value, Mapping):
        return {str(key): _strict(item) for key, item in value.items()}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_strict(item) for item in value]
    tolist = getattr(value, "tolist", None)  # NumPy and torch scalars and arrays
    if callable(tolist):
        return _strict(tolist())
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def _revive(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"mean", "sd", "n"}:
        return MeanSD(value["mean"], value["sd"], value["n"])
    return value

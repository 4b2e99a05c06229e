"""Result tables: a list of dict rows, printed as markdown and saved as JSON next to plots."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.checkpoint import atomic_write

__all__ = ["ResultTable", "mean_sd"]


@dataclass
class ResultTable:
    """A named table of results.

    Attributes:
        name: a file-safe name (``"concordance"``), used for ``<name>.json`` / ``<name>.md``.
        rows: one dict per row; columns are the union of keys in first-seen order.
        title: a heading shown above the markdown table.
        notes: free text shown under the table (units, protocol, what the paper reports).
    """

    name: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    title: str = ""
    notes: str = ""

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
        """The table as GitHub markdown, with its title and notes."""
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
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "notes": self.notes, "rows": self.rows}

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write ``<folder>/<name>.json`` and ``<folder>/<name>.md`` atomically; return the JSON path."""
        directory = Path(folder)
        payload = json.dumps(self.to_dict(), indent=2, default=_json_default, allow_nan=True)
        markdown = self.to_markdown() + "\n"
        atomic_write(directory / f"{self.name}.md", lambda tmp: tmp.write_text(markdown))
        return atomic_write(directory / f"{self.name}.json", lambda tmp: tmp.write_text(payload))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ResultTable:
        data = json.loads(Path(path).read_text())
        return cls(
            name=data["name"], rows=data["rows"], title=data.get("title", ""), notes=data.get("notes", "")
        )


def mean_sd(values: Iterable[float], digits: int = 3) -> str:
    """Format ``mean ± sd`` (sample sd, ddof=1) of finite values; ``nan`` when there are none."""
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not finite:
        return "nan"
    mean = sum(finite) / len(finite)
    if len(finite) == 1:
        return f"{mean:.{digits}f}"
    sd = math.sqrt(sum((v - mean) ** 2 for v in finite) / (len(finite) - 1))
    return f"{mean:.{digits}f} ± {sd:.{digits}f}"


def _format(value: Any, float_format: str) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return float_format.format(value)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return ", ".join(_format(v, float_format) for v in value)
    return str(value).replace("|", "\\|")


def _json_default(value: Any) -> Any:
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")

"""Where a result came from: versions, commit, seed, scale, command, times and hardware."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

__all__ = ["git_commit", "hardware", "now_iso", "provenance", "versions"]


def now_iso() -> str:
    """The current UTC time, ISO 8601 to the second (``2026-12-01T20:47:09Z``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def versions(*distributions: str) -> dict[str, str | None]:
    """Installed versions of `distributions` plus the numeric stack (torch, numpy), ``None`` if absent."""
    names = dict.fromkeys(["core", *distributions, "torch", "numpy"])
    found: dict[str, str | None] = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def git_commit(near: str | os.PathLike[str] | None = None) -> str | None:
    """The commit of the git checkout holding `near` (default: this file), ``+dirty`` when modified.

    ``None`` when the code does not run from a git checkout (an installed wheel) or git is missing.
    """
    folder = Path(near) if near is not None else Path(__file__).parent
    if folder.is_file():
        folder = folder.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def hardware() -> dict[str, Any]:
    """CPU model and count, and the CUDA devices torch sees (only if torch is already imported)."""
    info: dict[str, Any] = {
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "gpus": [],
    }
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    if torch is not None:
        info["torch_threads"] = torch.get_num_threads()
    return info


def provenance(
    *,
    package: str | None = None,
    seed: int | None = None,
    scale: str | None = None,
    command: list[str] | None = None,
    started: str | None = None,
    data: Any = None,
) -> dict[str, Any]:
    """The provenance block stored with every results file.

    Args:
        package: the distribution whose experiment produced the result.
        seed, scale: the run's options.
        command: the exact command line (default: ``sys.argv``).
        started: ISO time the run began (default: now).
        data: what data the result used (names, paths, checksums), as the experiment states it.
    """
    return {
        "package": package,
        "versions": versions(*([package] if package else [])),
        "git_commit": git_commit(),
        "seed": seed,
        "scale": scale,
        "command": list(command if command is not None else sys.argv),
        "started": started or now_iso(),
        "finished": now_iso(),
        "hardware": hardware(),
        "data": data,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"

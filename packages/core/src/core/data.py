"""Data locations: the user cache, files bundled in a package, checksum-verified downloads."""

from __future__ import annotations

import hashlib
import os
import urllib.request
from importlib import resources
from pathlib import Path

from core.errors import InputError
from core.files import atomic_write

__all__ = ["bundled_path", "cache_dir", "download", "sha256_of"]


def cache_dir(package: str = "") -> Path:
    """The cache folder (created): ``$XDG_CACHE_HOME/papers-ml/<package>``, default ``~/.cache``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = Path(base) / "papers-ml"
    if package:
        folder = folder / package
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def bundled_path(package: str, *parts: str) -> Path:
    """Path of a data file shipped inside an installed package (``importlib.resources``).

    Raises:
        InputError: when the package ships no such file.
    """
    resource = resources.files(package).joinpath(*parts)
    if not resource.is_file():
        raise InputError("no such bundled file", item=f"{package}/{'/'.join(parts)}")
    return Path(str(resource))


def sha256_of(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, sha256: str, dest: str | os.PathLike[str], *, timeout: float = 60.0) -> Path:
    """Fetch `url` to `dest` unless a file with the right checksum is already there.

    The download is written to a temporary file and moved into place only when its SHA-256
    matches, so a broken or tampered transfer never leaves a file behind.

    Raises:
        InputError: on a checksum mismatch (naming both digests) or a network failure.
    """
    target = Path(dest)
    if target.is_file() and sha256_of(target) == sha256:
        return target

    def fetch(tmp: Path) -> None:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
                while block := response.read(1 << 20):
                    out.write(block)
        except OSError as exc:
            raise InputError("download failed", item=url) from exc
        got = sha256_of(tmp)
        if got != sha256:
            raise InputError("checksum mismatch", item=url, expected=f"sha256 {sha256}, got {got}")

    return atomic_write(target, fetch)

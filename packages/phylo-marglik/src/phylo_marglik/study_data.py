"""Where the study's data sets (DS1-DS5, DS3s) come from: a download, checksum-verified, and one
lookup order that always says which folder it used. Nothing here imports torch.

The files are the study's own (``4ment/marginal-experiments`` at commit `STUDY_COMMIT`, folder
``data/``); the repository carries no licence, so they are never bundled: ``phylo-marglik data
fetch`` downloads them into ``core.cache_dir("phylo-marglik")``.

Lookup order of `locate_study_data` (the first folder that holds the requested files wins):

1. the folder passed explicitly (``--data DIR``, ``RunOptions.data``, ``data=`` arguments);
2. ``$PHYLO_MARGLIK_DATA``;
3. the cache that ``phylo-marglik data fetch`` fills;
4. ``../shared/data/phylo-marglik`` beside a source checkout (the project's reference folder).

The folder found and the rule that found it are returned (`DataLocation`) and recorded in
every result table's ``data=``; when none holds the files, the error says how to get them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from core.errors import InputError

__all__ = [
    "STUDY_COMMIT",
    "STUDY_DATASETS",
    "STUDY_FILES",
    "STUDY_REPOSITORY",
    "DataLocation",
    "dataset_files",
    "fetch_study_data",
    "locate_study_data",
]

STUDY_DATASETS = ("DS1", "DS2", "DS3", "DS3s", "DS4", "DS5")
STUDY_REPOSITORY = "4ment/marginal-experiments"
STUDY_COMMIT = "41124a1fbeed566cd7abc3dc474ea908a5ee8b28"  # "41124a1" in the shared folder's README
BASE_URL = f"https://raw.githubusercontent.com/{STUDY_REPOSITORY}/{STUDY_COMMIT}/data"

# SHA-256 of each file at that commit (computed from the byte-for-byte copies in ../shared/data).
STUDY_FILES: dict[str, str] = {
    "DS1.nex": "42e35f5a8f1b3a3c6e5c4c1decd3ccc65371df14235e2ddb9652ebed65d4698f",
    "DS2.nex": "83f83eabf93b8d7c9523702679a2c4a881d0569372c0a28bd85c1e0ba9222956",
    "DS3.nex": "33fe97bc958c8c8094dbcffb8a9e29af9b85bc04ae0ab65a33894b8ea318e481",
    "DS3s.nex": "2d9b080aeb02d19f413e5a924891a3f716faa328e6a2d55ffeb96c02d5c6fd94",
    "DS4.nex": "25cbc7530ba0e3da0a1b48eb0cffbe38215c0da9347b75b3732ba164a0051421",
    "DS5.nex": "56bd9bc389b5aa1067a614c7aa3d1e9c109fac898c5787d0ae912f39d5eda188",
    "JC_no_gamma_credible_set_ds1": "75cad266a254f9533252f88af99ff5833c8ff2c5527e246b2844faf0e53cfd98",
    "JC_no_gamma_credible_set_ds2": "d59cafe77c1591f7dc8e6a0a7e6941bf410d20be30300f2cfe6d24c81235ac3a",
    "JC_no_gamma_credible_set_ds3": "084dcf492f7b02f3f11e9dec3486533e9842720b2d48d246e668bafd6e130a90",
    "JC_no_gamma_credible_set_ds3s": "bfa186edcb1eaa635e774a3f5a29f57ac86a867fa7f7e6888907669f97216aa1",
    "JC_no_gamma_credible_set_ds4": "268d8f992c5b75dfeb7b8eb271f606dcff566bb9067d3aa21e62d3695982a71a",
    "JC_no_gamma_credible_set_ds5": "03b581c16553e15b59f966a092495fd3c5954d03af4c18f074f479f6504a86d0",
}

HOW_TO_GET = (
    "run 'phylo-marglik data fetch' (downloads the study's files, checksum-verified, into the cache), "
    "pass --data DIR (a folder with DS1.nex ... and JC_no_gamma_credible_set_ds1 ...), "
    "or --data simulated for the bundled simulated case"
)


@dataclass(frozen=True)
class DataLocation:
    """A folder of the study's files and how it was found.

    Attributes:
        folder: absolute path.
        origin: "--data", "$PHYLO_MARGLIK_DATA", "cache" or "shared folder beside the checkout".
    """

    folder: Path
    origin: str

    def describe(self, files: Iterable[str]) -> dict[str, object]:
        """The ``data=`` record of a result table: folder, origin and the files used."""
        return {"folder": str(self.folder), "origin": self.origin, "files": list(files)}


def dataset_files(name: str) -> tuple[str, str]:
    """The alignment and credible-set file names of a study data set."""
    if name not in STUDY_DATASETS:
        raise InputError("unknown study data set", item=name, expected=f"one of {', '.join(STUDY_DATASETS)}")
    return f"{name}.nex", f"JC_no_gamma_credible_set_{name.lower()}"


def _cache() -> Path:
    from core.data import cache_dir

    return cache_dir("phylo-marglik")


def _beside_checkout() -> Path | None:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "packages").is_dir():
            return (parent / ".." / "shared" / "data" / "phylo-marglik").resolve()
    return None


def locate_study_data(
    names: Iterable[str] = ("DS2",), data: str | os.PathLike[str] | None = None
) -> DataLocation:
    """The folder holding the files of the data sets `names`, by the lookup order above.

    Args:
        names: study data sets whose alignment and credible set must be present.
        data: an explicit folder; when given, it is the only place looked at.

    Raises:
        InputError: the explicit folder lacks a file (naming it), or no folder holds the files
            (saying how to get them).
    """
    needed = [f for name in names for f in dataset_files(name)]
    if data is not None:
        folder = Path(data)
        if not folder.is_dir():
            raise InputError("data folder not found", item=str(folder), expected=HOW_TO_GET)
        missing = [f for f in needed if not (folder / f).is_file()]
        if missing:
            raise InputError(
                "the data folder lacks a study file", item=str(folder / missing[0]), expected=HOW_TO_GET
            )
        return DataLocation(folder.resolve(), "--data")
    candidates: list[tuple[Path, str]] = []
    env = os.environ.get("PHYLO_MARGLIK_DATA")
    if env:
        candidates.append((Path(env), "$PHYLO_MARGLIK_DATA"))
    candidates.append((_cache(), "cache"))
    shared = _beside_checkout()
    if shared is not None:
        candidates.append((shared, "shared folder beside the checkout"))
    for folder, origin in candidates:
        if all((folder / f).is_file() for f in needed):
            return DataLocation(folder.resolve(), origin)
    searched = ", ".join(str(f) for f, _ in candidates)
    raise InputError(
        f"the study's data ({', '.join(needed)}) was not found",
        item=f"searched {searched}",
        expected=HOW_TO_GET,
    )


def fetch_study_data(
    dest: str | os.PathLike[str] | None = None,
    *,
    base_url: str = BASE_URL,
    files: Iterable[str] | None = None,
    report: Callable[[str], None] | None = None,
) -> Path:
    """Download the study's files into `dest` (default: the cache), each checked by SHA-256.

    A file already there with the right checksum is kept; a transfer whose checksum does not
    match leaves nothing behind (`core.download`).

    Args:
        dest: target folder (created).
        base_url: where the files are (``<base_url>/<file name>``); the study's repository at
            `STUDY_COMMIT` by default, a ``file://`` URL for a local mirror.
        files: names to fetch (default: all of `STUDY_FILES`).
        report: called with one line per file (e.g. ``print``).

    Raises:
        InputError: an unknown file name, a failed download or a checksum mismatch.
    """
    from core.data import download

    folder = Path(dest) if dest is not None else _cache()
    folder.mkdir(parents=True, exist_ok=True)
    for name in files if files is not None else STUDY_FILES:
        if name not in STUDY_FILES:
            raise InputError("not a file of the study", item=name, expected=", ".join(STUDY_FILES))
        path = download(f"{base_url.rstrip('/')}/{name}", STUDY_FILES[name], folder / name)
        if report is not None:
            report(f"{path} (sha256 {STUDY_FILES[name][:12]}... ok)")
    return folder

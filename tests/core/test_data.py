import hashlib

import pytest

from core import InputError, bundled_path, cache_dir, download, sha256_of


def test_cache_dir_respects_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = cache_dir("survival")
    assert folder == tmp_path / "papers-ml" / "survival" and folder.is_dir()


def test_download_verifies_checksum_and_reuses_a_good_file(tmp_path):
    source = tmp_path / "source.txt"
    source.write_bytes(b"hello data")
    digest = hashlib.sha256(b"hello data").hexdigest()
    dest = download(source.as_uri(), digest, tmp_path / "cache" / "data.txt")
    assert dest.read_bytes() == b"hello data" and sha256_of(dest) == digest
    source.unlink()  # a second call must not fetch again
    assert download(source.as_uri(), digest, dest) == dest


def test_download_with_wrong_checksum_leaves_nothing_behind(tmp_path):
    source = tmp_path / "source.txt"
    source.write_bytes(b"tampered")
    with pytest.raises(InputError, match="checksum mismatch"):
        download(source.as_uri(), "0" * 64, tmp_path / "cache" / "data.txt")
    assert list((tmp_path / "cache").iterdir()) == []


def test_download_failure_names_the_url(tmp_path):
    missing = (tmp_path / "missing.txt").as_uri()
    with pytest.raises(InputError, match=r"missing\.txt"):
        download(missing, "0" * 64, tmp_path / "x")


def test_bundled_path_finds_package_files_and_names_missing_ones():
    assert bundled_path("core", "errors.py").name == "errors.py"
    with pytest.raises(InputError, match=r"core/nope\.csv"):
        bundled_path("core", "nope.csv")

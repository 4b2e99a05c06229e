"""SMILES files, the bundled subset, the MOSES extraction, and dataset preparation with drop counts."""

from __future__ import annotations

import gzip
import zipfile

import numpy as np
import pytest

from core.errors import InputError
from molgraph import Vocab, bundled_smiles, fetch_moses, prepare, read_smiles
from molgraph.data import MOSES_SPLITS


def test_bundled_subset_sizes_and_validity():
    train, test = bundled_smiles("train"), bundled_smiles("test")
    assert len(train) == 3000 and len(test) == 500
    assert prepare(train[:20], desc="t").dropped == {}


def test_read_smiles_skips_header_and_reads_gzip(tmp_path):
    plain = tmp_path / "a.csv"
    plain.write_text("SMILES,split\nCCO,train\n\nc1ccccc1,test\n")
    assert read_smiles(plain) == ["CCO", "c1ccccc1"]
    packed = tmp_path / "b.smi.gz"
    with gzip.open(packed, "wt") as handle:
        handle.write("CCN name\nCCC\n")
    assert read_smiles(packed) == ["CCN", "CCC"]
    assert read_smiles(packed, limit=1) == ["CCN"]


def test_read_smiles_errors_name_the_file(tmp_path):
    with pytest.raises(InputError, match="not found") as info:
        read_smiles(tmp_path / "missing.smi")
    assert "missing.smi" in str(info.value)
    empty = tmp_path / "empty.smi"
    empty.write_text("smiles\n\n")
    with pytest.raises(InputError, match="no SMILES"):
        read_smiles(empty)
    with pytest.raises(InputError, match="unknown bundled split"):
        bundled_smiles("valid")


def test_prepare_counts_dropped_molecules_by_reason():
    vocab = prepare(["CCO", "c1ccccc1CC"], desc="v").vocab
    result = prepare(["CCO", "C1CC", "not a smiles", "C1CCCCCCC1", "c1ccccc1CCO"], vocab, desc="t")
    assert result.dropped["invalid SMILES"] == 2
    assert result.dropped["cluster not in vocabulary"] == 1  # the 8-ring
    assert len(result.samples) == 2
    assert "kept 2 of 5" in result.report()


def test_prepare_in_parallel_gives_the_serial_result():
    smiles = [*bundled_smiles("train")[:60], "not a smiles"]
    serial = prepare(smiles, desc="serial")
    parallel = prepare(smiles, desc="parallel", workers=2)
    assert parallel.vocab.clusters == serial.vocab.clusters
    assert parallel.dropped == serial.dropped and parallel.dropped["invalid SMILES"] == 1
    assert [s.smiles for s in parallel.samples] == [s.smiles for s in serial.samples]
    for a, b in zip(parallel.samples, serial.samples):
        assert a.wids == b.wids and a.trace == b.trace
        assert [(p, len(g), i) for p, g, i in a.assembly] == [(p, len(g), i) for p, g, i in b.assembly]
        assert np.array_equal(a.graph.x, b.graph.x) and np.array_equal(a.graph.bond, b.graph.bond)
    with pytest.raises(InputError, match="workers"):
        prepare(smiles, workers=0)


def test_vocab_round_trip_and_errors(tmp_path):
    vocab = Vocab.from_smiles(["CC(=O)Nc1ccccc1", "CCO"])
    assert "C1=CC=CC=C1" in vocab and len(vocab) == len(set(vocab.clusters))
    loaded = Vocab.load(vocab.save(tmp_path / "vocab.json"))
    assert loaded.clusters == vocab.clusters
    with pytest.raises(InputError, match="C1CCCCC1"):
        vocab.index("C1CCCCC1", molecule="C1CCCCC1")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InputError, match="not JSON"):
        Vocab.load(tmp_path / "bad.json")
    with pytest.raises(InputError, match="duplicate"):
        Vocab(["CC", "CC"])


def _fake_molsets_wheel(path, splits=MOSES_SPLITS):
    with zipfile.ZipFile(path, "w") as archive:
        for split in splits:
            archive.writestr(f"moses/dataset/data/{split}.csv.gz", gzip.compress(b"SMILES\nCCO\nc1ccccc1\n"))
        archive.writestr("molsets-0.3.1.dist-info/LICENSE", "MIT")
    return path


def test_fetch_moses_extracts_the_splits_from_a_wheel(tmp_path):
    wheel = _fake_molsets_wheel(tmp_path / "molsets-0.3.1-py3-none-any.whl")
    paths = fetch_moses(tmp_path / "moses", wheel=wheel)
    assert set(paths) == set(MOSES_SPLITS)
    assert read_smiles(paths["train"]) == ["CCO", "c1ccccc1"]
    assert (tmp_path / "moses" / "LICENSE").read_text() == "MIT"


def test_fetch_moses_rejects_a_wheel_without_splits(tmp_path):
    wheel = _fake_molsets_wheel(tmp_path / "molsets.whl", splits=("train",))
    with pytest.raises(InputError, match=r"test\.csv\.gz"):
        fetch_moses(tmp_path / "out", wheel=wheel)
    assert not (tmp_path / "out" / "test.csv.gz").exists()
    (tmp_path / "junk.whl").write_text("not a zip")
    with pytest.raises(InputError, match="not a wheel"):
        fetch_moses(tmp_path / "out", wheel=tmp_path / "junk.whl")

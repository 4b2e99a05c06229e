"""Data: the bundled split is fixed and stratified; the MNIST/CIFAR file loaders read and refuse correctly."""

from __future__ import annotations

import gzip
import pickle
import struct

import numpy as np
import pytest
import torch

from core.errors import InputError
from robust.data import load_cifar10, load_dataset, load_mnist_idx


def test_digits_split_is_fixed_stratified_and_scaled(digits):
    again = load_dataset("digits")
    assert torch.equal(digits.x_test, again.x_test) and torch.equal(digits.y_train, again.y_train)
    assert digits.x_train.shape[1:] == (1, 8, 8) and len(digits.x_train) + len(digits.x_test) == 1797
    assert float(digits.x_train.min()) == 0.0 and float(digits.x_train.max()) == 1.0
    counts = torch.bincount(digits.y_test, minlength=10).float()
    assert float(counts.max() - counts.min()) <= 2  # stratified: about 36 per class
    assert "digits" in digits.describe()


def _write_idx(path, array, magic, compress=False):
    header = struct.pack(">i", magic) + struct.pack(f">{array.ndim}i", *array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)


def _mnist_folder(tmp_path, n_train=6, n_test=4, compress=False):
    rng = np.random.default_rng(0)
    suffix = ".gz" if compress else ""
    for stem, n in (("train", n_train), ("t10k", n_test)):
        _write_idx(
            tmp_path / f"{stem}-images-idx3-ubyte{suffix}", rng.integers(0, 256, (n, 28, 28)), 2051, compress
        )
        _write_idx(tmp_path / f"{stem}-labels-idx1-ubyte{suffix}", rng.integers(0, 10, (n,)), 2049, compress)
    return tmp_path


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_idx_files_are_read_back_exactly(tmp_path, compress):
    folder = _mnist_folder(tmp_path, compress=compress)
    data = load_mnist_idx(folder)
    raw = (
        gzip.decompress((folder / f"train-images-idx3-ubyte{'.gz' if compress else ''}").read_bytes())
        if compress
        else (folder / "train-images-idx3-ubyte").read_bytes()
    )
    pixels = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(6, 1, 28, 28)
    assert torch.equal(data.x_train, torch.as_tensor(pixels.astype(np.float32) / 255))
    assert data.x_test.shape == (4, 1, 28, 28) and data.y_test.dtype == torch.int64


def test_mnist_loader_names_the_broken_file(tmp_path):
    folder = _mnist_folder(tmp_path)
    (folder / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(InputError, match=r"MNIST file missing.*t10k-labels"):
        load_mnist_idx(folder)
    _write_idx(folder / "t10k-labels-idx1-ubyte", np.zeros(4), 2051)
    with pytest.raises(InputError, match="not an MNIST label IDX file: magic number 2051"):
        load_mnist_idx(folder)
    _write_idx(folder / "t10k-labels-idx1-ubyte", np.zeros(3), 2049)
    with pytest.raises(InputError, match="4 images but 3 labels"):
        load_mnist_idx(folder)
    raw = (folder / "train-images-idx3-ubyte").read_bytes()
    (folder / "train-images-idx3-ubyte").write_bytes(raw[:-10])
    with pytest.raises(InputError, match="its header says"):
        load_mnist_idx(folder)


def _cifar_folder(tmp_path, data_shape=(5, 3072), dtype=np.uint8):
    rng = np.random.default_rng(1)
    for name in [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]:
        batch = {
            b"data": rng.integers(0, 256, data_shape).astype(dtype),
            b"labels": list(rng.integers(0, 10, data_shape[0])),
        }
        with (tmp_path / name).open("wb") as handle:
            pickle.dump(batch, handle)
    return tmp_path


def test_cifar10_batches_are_read_as_channels_first_images(tmp_path):
    data = load_cifar10(_cifar_folder(tmp_path))
    assert data.x_train.shape == (25, 3, 32, 32) and data.x_test.shape == (5, 3, 32, 32)
    with (tmp_path / "test_batch").open("rb") as handle:
        first = pickle.load(handle)[b"data"][0]
    assert torch.equal(data.x_test[0], torch.as_tensor(first.reshape(3, 32, 32).astype(np.float32) / 255))


def test_cifar10_loader_refuses_wrong_shapes_dtypes_and_missing_batches(tmp_path):
    with pytest.raises(InputError, match=r"must be \(n, 3072\) uint8, got \(5, 1024\)"):
        load_cifar10(_cifar_folder(tmp_path, (5, 1024)))
    with pytest.raises(InputError, match="float64"):
        load_cifar10(_cifar_folder(tmp_path, (5, 3072), np.float64))
    _cifar_folder(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(InputError, match=r"CIFAR-10 batch missing.*data_batch_3"):
        load_cifar10(tmp_path)


def test_unknown_or_unbundled_data_sets_say_how_to_get_them():
    with pytest.raises(InputError, match="not bundled; pass --data DIR"):
        load_dataset("mnist")
    with pytest.raises(InputError, match=r"unknown data set.*imagenet"):
        load_dataset("imagenet")

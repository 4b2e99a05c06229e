"""OoD data pairs (grid, levels, resize by hand), the standard-file loaders, and the fit-flow / score-ood CLI."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from core.errors import InputError
from genmodels.cli import main
from genmodels.ood_data import load_standard, ood_sets, quantize, to_grid


def test_ood_sets_share_one_grid_and_256_levels():
    sets = ood_sets(seed=0, synthetic=20)
    for name, images in sets.items():
        assert images.shape == (1, 16, 16), name
        k = images.images * 255
        assert (
            np.allclose(k, np.round(k), atol=1e-4) and images.images.min() >= 0 and images.images.max() <= 1
        )
    assert np.array_equal(sets["inverted"].images, 1 - sets["mnist"].images)
    constant = sets["constant"].images
    assert np.all(np.ptp(constant.reshape(20, -1), 1) == 0) and constant.reshape(20, -1)[:, 0].std() > 0.1
    assert len(sets["mnist"]) == 5000 and len(sets["digits"]) == 1797


def test_to_grid_by_hand_and_bad_shapes():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(2, 1, 28, 28)).astype(np.float32)
    grid = to_grid(x)
    padded = np.zeros((32, 32))
    padded[2:30, 2:30] = x[1, 0]
    assert grid[1, 0, 3, 5] == pytest.approx(padded[6:8, 10:12].mean(), abs=1e-6)
    small = np.full((1, 1, 8, 8), 0.25, np.float32)
    assert np.allclose(to_grid(small), 0.25)  # bilinear upsampling keeps a constant image
    assert np.array_equal(quantize(np.array([0.0, 0.5, 1.0])), np.array([0, 128, 255], np.float32) / 255)
    with pytest.raises(InputError, match="square grey"):
        to_grid(np.zeros((2, 3, 28, 28)))
    with pytest.raises(InputError, match="no resize rule"):
        to_grid(np.zeros((2, 1, 10, 10)))


def test_standard_files_load(tmp_path):
    pixels = np.arange(2 * 28 * 28, dtype=np.uint32).reshape(2, 28, 28) % 256
    header = bytes([0, 0, 8, 3]) + b"".join(int(v).to_bytes(4, "big") for v in (2, 28, 28))
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(header + pixels.astype(np.uint8).tobytes())
    mnist = load_standard(tmp_path / "t10k-images-idx3-ubyte")
    assert mnist.shape == (1, 28, 28) and np.allclose(mnist.images[:, 0] * 255, pixels)
    cifar = {b"data": np.arange(2 * 3072, dtype=np.int64).reshape(2, 3072) % 256, b"labels": [3, 7]}
    with open(tmp_path / "test_batch", "wb") as handle:
        pickle.dump(cifar, handle)
    loaded = load_standard(tmp_path / "test_batch")
    assert loaded.shape == (3, 32, 32) and list(loaded.labels) == [3, 7]
    assert loaded.images[1, 2, 0, 1] * 255 == pytest.approx((3072 + 2 * 1024 + 1) % 256)
    (tmp_path / "other.bin").write_bytes(b"xx")
    with pytest.raises(InputError, match="unknown standard file"):
        load_standard(tmp_path / "other.bin")


def test_fit_flow_then_score_ood_with_waic(tmp_path, capsys):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "noise.npy", rng.integers(0, 17, (100, 8, 8)) / 16.0)
    np.save(tmp_path / "big.npy", np.zeros((4, 16, 16)))
    tiny = ["--levels", "1", "--steps", "1", "--hidden", "4", "--epochs", "1", "--grey-levels", "17"]
    for seed in (0, 1):
        argv = [
            "fit-flow",
            "--data",
            "digits",
            *tiny,
            "--seed",
            str(seed),
            "--out",
            str(tmp_path / f"f{seed}"),
        ]
        assert main(argv) == 0
    capsys.readouterr()
    checkpoints = [str(tmp_path / f"f{seed}" / "flow.safetensors") for seed in (0, 1)]
    assert main(["score-ood", *checkpoints, "--in", "digits", "--other", str(tmp_path / "noise.npy")]) == 0
    text = capsys.readouterr().out
    assert "auroc -WAIC" in text
    row = next(line for line in text.splitlines() if "noise.npy" in line and line.startswith("|"))
    cells = [float(cell) for cell in row.split("|")[2:-1]]  # bpd, AUROC/AUPR of -log p and of -WAIC
    assert len(cells) == 5 and cells[0] > 0 and all(0 <= value <= 1 for value in cells[1:])
    assert main(["score-ood", checkpoints[0], "--in", "digits", "--other", str(tmp_path / "big.npy")]) == 2
    assert "flows' shape" in capsys.readouterr().err

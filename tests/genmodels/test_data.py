"""Image loaders: bundled sets in [0, 1], users' arrays and folders, one-line errors on bad input."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InputError
from genmodels.data import images_from_array, load_digits, load_image_folder, load_images, load_mnist_5000


def test_bundled_sets_have_their_documented_shapes_and_ranges():
    digits, mnist = load_digits(), load_mnist_5000()
    assert digits.images.shape == (1797, 1, 8, 8) and mnist.images.shape == (5000, 1, 28, 28)
    for images in (digits, mnist):
        assert images.images.dtype == np.float32
        assert images.images.min() == 0.0 and images.images.max() == 1.0
        assert len(images.labels) == len(images) and set(images.labels) == set(range(10))


def test_split_is_disjoint_and_reproducible():
    digits = load_digits()
    train, test = digits.split(0.25, seed=3)
    again, _ = digits.split(0.25, seed=3)
    assert len(train) + len(test) == len(digits) and len(test) == round(0.25 * len(digits))
    assert np.array_equal(train.images, again.images)
    assert "train split" in train.source


def test_arrays_in_every_layout_become_nchw_in_unit_range():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (5, 6, 7, 3), dtype=np.uint8)
    nhwc = images_from_array(pixels)
    assert nhwc.images.shape == (5, 3, 6, 7)
    assert np.allclose(nhwc.images[2, 1], pixels[2, :, :, 1] / 255.0)
    assert images_from_array(pixels[..., 0]).images.shape == (5, 1, 6, 7)
    assert images_from_array(np.moveaxis(pixels, -1, 1) / 255.0).images.shape == (5, 3, 6, 7)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((4, 8)), "3-d"),
        (np.zeros((4, 2, 8, 8)), "1, 3 or 4 channels"),
        (np.zeros((4, 2, 8, 8)), r"shape \(4, 2, 8, 8\)"),
        (np.full((4, 8, 8), 3.0), "values from 3 to 3"),
        (np.full((4, 8, 8), np.nan), "NaN"),
        (np.zeros((4, 8, 8), dtype=np.int32), "int32"),
        (np.zeros((0, 8, 8)), "no images"),
    ],
)
def test_bad_arrays_raise_one_line_errors_naming_the_problem(array, message):
    with pytest.raises(InputError, match=message) as error:
        images_from_array(array, source="mine.npy")
    assert "mine.npy" in str(error.value) and "\n" not in str(error.value)


def test_labels_must_match_the_images():
    with pytest.raises(InputError, match="labels"):
        images_from_array(np.zeros((4, 8, 8)), labels=[0, 1])


def test_image_folder_and_npz_files_load(tmp_path):
    from PIL import Image

    folder = tmp_path / "pics"
    folder.mkdir()
    for index in range(3):
        Image.fromarray(np.full((10, 12, 3), 40 * index, np.uint8)).save(folder / f"{index}.png")
    images = load_image_folder(folder)
    assert images.images.shape == (3, 3, 10, 12)
    assert np.allclose(images.images[2], 80 / 255.0)
    assert load_image_folder(folder, grey=True).images.shape == (3, 1, 10, 12)
    Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(folder / "odd.png")
    with pytest.raises(InputError, match=r"odd\.png"):
        load_image_folder(folder)
    np.savez(tmp_path / "set.npz", images=np.zeros((2, 4, 4), np.uint8), labels=np.array([1, 2]))
    assert load_images(tmp_path / "set.npz").labels.tolist() == [1, 2]
    np.savez(tmp_path / "bad.npz", pixels=np.zeros((2, 4, 4)))
    with pytest.raises(InputError, match="'images'"):
        load_images(tmp_path / "bad.npz")
    with pytest.raises(InputError, match="unknown data set"):
        load_images("cifar")

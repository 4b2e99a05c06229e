"""Augmentation scenarios for skin lesions (Perez et al. 2018): pipelines, TTA, AUC, the ISIC loader."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from core.errors import InputError
from vision_attention.augment.config import SCENARIO_NAMES, AugmentConfig, ProxyConfig, check_scenarios
from vision_attention.augment.data import LesionData, synthetic_lesions
from vision_attention.augment.isic import find_isic_split, load_isic
from vision_attention.augment.metrics import bootstrap_auc, paired_bootstrap_difference, roc_auc
from vision_attention.augment.models import LesionCNN
from vision_attention.augment.scenarios import (
    augment_images,
    build_scenario,
    fill_lesion,
    lesion_mix,
    predict_probabilities,
    predict_tta,
)
from vision_attention.augment.study import run_study, train_scenario
from vision_attention.config import TrainConfig

SIZE = 24


@pytest.fixture(scope="module")
def lesions() -> LesionData:
    return synthetic_lesions(12, ProxyConfig(size=SIZE), seed=3)


def test_there_are_the_papers_13_scenarios_and_every_pipeline_keeps_shape_dtype_and_range(lesions):
    assert len(SCENARIO_NAMES) == 13
    config = AugmentConfig(size=SIZE)
    pool = (lesions.images, lesions.masks)
    for name in SCENARIO_NAMES:
        out = augment_images(build_scenario(name, config), lesions.images, 0, lesions.masks, pool)
        assert out.shape == lesions.images.shape, name
        assert out.dtype == torch.float32, name
        assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0, name
        if name != "a-none":
            assert not torch.equal(out, lesions.images), name  # the scenario does something


def test_augmentation_is_deterministic_in_its_seed_and_leaves_the_global_rng_alone(lesions):
    scenario = build_scenario("j-basic", AugmentConfig(size=SIZE))
    state = torch.random.get_rng_state()
    first = augment_images(scenario, lesions.images, 7)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.equal(first, augment_images(scenario, lesions.images, 7))
    assert not torch.equal(first, augment_images(scenario, lesions.images, 8))
    # each image gets its own parameters: two copies of one image come out different
    twins = augment_images(scenario, lesions.images[:1].repeat(2, 1, 1, 1), 7)
    assert not torch.equal(twins[0], twins[1])


def test_lesion_mix_keeps_the_lesion_and_takes_the_skin_of_the_background():
    image, background = torch.full((3, 8, 8), 0.2), torch.full((3, 8, 8), 0.9)
    mask = torch.zeros(1, 8, 8)
    mask[:, 2:5, 2:5] = 1
    no_lesion = torch.zeros(1, 8, 8)
    mixed = lesion_mix(image, mask, background, no_lesion)
    assert torch.allclose(mixed[:, 2:5, 2:5], image[:, 2:5, 2:5])
    assert torch.allclose(mixed[:, 6:, 6:], background[:, 6:, 6:])
    # the background's own lesion (0.1) is filled in from its skin (0.9)
    spotted = background.clone()
    spotted[:, 5:7, 5:7] = 0.1
    spot = torch.zeros(1, 8, 8)
    spot[:, 5:7, 5:7] = 1
    assert torch.allclose(fill_lesion(spotted, spot), background, atol=1e-5)


def test_tta_of_the_identity_equals_the_plain_prediction_and_tta_is_the_mean_of_the_copies(lesions):
    model = LesionCNN(4).eval()
    plain = predict_probabilities(model, lesions.images)
    assert torch.equal(predict_tta(model, lesions.images, build_scenario("a-none"), 5, seed=0), plain)
    flips = build_scenario("e-flips", AugmentConfig(size=SIZE))
    by_hand = torch.stack(
        [predict_probabilities(model, augment_images(flips, lesions.images, 10 + c)) for c in range(3)]
    ).mean(0)
    assert torch.allclose(predict_tta(model, lesions.images, flips, 3, seed=10), by_hand, atol=1e-6)


def test_auc_equals_sklearn_and_the_bootstrap_interval_brackets_it():
    rng = np.random.default_rng(0)
    labels = (rng.uniform(size=200) < 0.3).astype(int)
    scores = np.round(labels * 0.8 + rng.normal(size=200), 1)  # rounded: ties
    assert roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    auc, low, high = bootstrap_auc(labels, scores, resamples=500, seed=1)
    assert auc == pytest.approx(roc_auc_score(labels, scores), abs=1e-12) and low < auc < high
    assert 0.05 < high - low < 0.3
    assert paired_bootstrap_difference(labels, scores, scores, resamples=200) == (0.0, 0.0, 0.0)
    with pytest.raises(InputError, match="both classes"):
        roc_auc(np.zeros(5), np.arange(5.0))
    with pytest.raises(InputError, match="0 or 1"):
        roc_auc(np.array([0, 1, 2]), np.arange(3.0))


def test_bad_scenario_names_raise_one_clear_error(lesions):
    assert check_scenarios(["j", "a-none"]) == ("j-basic", "a-none")
    for call in (
        lambda: check_scenarios(["basic"]),
        lambda: build_scenario("z-magic"),
        lambda: run_study(
            lesions, lesions, ["a-none", "rotate"], AugmentConfig(size=SIZE), TrainConfig(epochs=1)
        ),
    ):
        with pytest.raises(InputError, match="unknown augmentation scenario") as error:
            call()
        assert "j-basic" in str(error.value)  # lists the valid names
    with pytest.raises(InputError, match=r"AugmentConfig\.hue"):
        AugmentConfig(hue=0.7)
    no_masks = LesionData(lesions.images, lesions.labels)
    with pytest.raises(InputError, match="i-lesion-mix needs lesion masks"):
        train_scenario(build_scenario("i"), no_masks, TrainConfig(epochs=1))


def _isic(tmp_path, rows, header=("image_id", "melanoma", "seborrheic_keratosis"), images=None):
    from PIL import Image

    folder = tmp_path / "ISIC-2017_Training_Data"
    masks = tmp_path / "ISIC-2017_Training_Part1_GroundTruth"
    folder.mkdir(exist_ok=True)
    masks.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for row in rows:
        if images is None or row[0] in images:
            pixels = rng.integers(0, 256, size=(10, 14, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{row[0]}.jpg")
            Image.fromarray(((pixels[..., 0] > 127) * 255).astype(np.uint8)).save(
                masks / f"{row[0]}_segmentation.png"
            )
    truth = tmp_path / "ISIC-2017_Training_Part3_GroundTruth.csv"
    with truth.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return folder, truth, masks


def test_isic_loader_reads_the_challenge_layout(tmp_path):
    rows = [("ISIC_0000000", "0.0", "0.0"), ("ISIC_0000001", "1.0", "0.0"), ("ISIC_0000002", "0", "1")]
    folder, truth, masks = _isic(tmp_path, rows)
    data = load_isic(folder, truth, masks=masks, size=16)
    assert data.images.shape == (3, 3, 16, 16) and data.masks.shape == (3, 1, 16, 16)
    assert data.labels.tolist() == [0, 1, 0] and data.ids == [r[0] for r in rows]
    assert 0 <= float(data.images.min()) and float(data.images.max()) <= 1
    assert find_isic_split(tmp_path, "Training") == (folder, truth, masks)


@pytest.mark.parametrize(
    ("rows", "header", "images", "message"),
    [
        ([("ISIC_1", "1")], ("name", "melanoma"), None, r"no id column.*columns \['name', 'melanoma'\]"),
        ([("ISIC_1", "1")], ("image_id", "nevus"), None, "no label column"),
        ([("ISIC_1", "0"), ("ISIC_2", "yes")], ("image_id", "melanoma"), None, r"line 3: 'yes'"),
        ([("ISIC_1", "0"), ("ISIC_2", "1")], ("image_id", "melanoma"), {"ISIC_1"}, r"line 3: ISIC_2 not in"),
        ([("ISIC_1", "0"), ("ISIC_1", "1")], ("image_id", "melanoma"), None, "repeated image id"),
        ([], ("image_id", "melanoma"), None, "lists no images"),
    ],
)
def test_isic_loader_errors_name_the_file_line_and_item(tmp_path, rows, header, images, message):
    folder, truth, _ = _isic(tmp_path, rows, header, images)
    with pytest.raises(InputError, match=message) as error:
        load_isic(folder, truth, size=8)
    if rows:
        assert str(truth) in str(error.value)


def test_isic_loader_names_a_missing_csv_or_mask(tmp_path):
    folder, truth, masks = _isic(tmp_path, [("ISIC_1", "0")], ("image_id", "melanoma"))
    with pytest.raises(InputError, match="CSV not found"):
        load_isic(folder, tmp_path / "missing.csv")
    (masks / "ISIC_1_segmentation.png").unlink()
    with pytest.raises(InputError, match=r"lesion mask missing.*line 2"):
        load_isic(folder, truth, masks=masks)


def test_a_resumed_augmented_run_equals_one_run_bit_for_bit(tmp_path, lesions):
    scenario = build_scenario("m-basic-mix", AugmentConfig(size=SIZE))
    config = TrainConfig(model="augment-m", epochs=2, batch_size=4, seed=1)
    whole = train_scenario(scenario, lesions, config, width=4)
    train_scenario(
        scenario, lesions, TrainConfig(**{**config.__dict__, "epochs": 1}), 4, tmp_path / "m.safetensors"
    )
    resumed = train_scenario(scenario, lesions, config, 4, tmp_path / "m.safetensors")
    for name, tensor in whole.state_dict().items():
        assert torch.equal(tensor, resumed.state_dict()[name]), name


def test_the_cnn_learns_proxy_lesions_well_above_chance():
    proxy = ProxyConfig(size=32, overlap=0.0, hairs=0)
    train, test = synthetic_lesions(160, proxy, seed=0), synthetic_lesions(100, proxy, seed=1)
    model = train_scenario(
        build_scenario("a-none"), train, TrainConfig(epochs=8, batch_size=16, learning_rate=3e-3), width=8
    )
    auc = roc_auc(test.labels.numpy(), predict_probabilities(model, test.images).numpy())
    assert auc >= 0.75  # chance: 0.5

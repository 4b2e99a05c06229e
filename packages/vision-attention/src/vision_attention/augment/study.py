"""The study: one network per augmentation scenario, scored with and without test-time augmentation.

For each scenario (Perez et al. 2018, sec. 3): train `LesionCNN` from the same seeded initialisation with
`vision_attention.training.fit`, each minibatch augmented by the scenario (each step's augmentation is
seeded by the seed and the step count, so a resumed run is bit-identical); then predict the test images
plainly ("train only") and as the mean over k augmented copies by the same scenario ("train + test").
AUCs come with stratified bootstrap 95% intervals; the gain of test-time augmentation with a paired one.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from core.errors import InputError
from vision_attention.augment.config import AugmentConfig, check_scenarios
from vision_attention.augment.data import LesionData
from vision_attention.augment.metrics import bootstrap_auc, paired_bootstrap_difference
from vision_attention.augment.models import LesionCNN
from vision_attention.augment.scenarios import Scenario, augment_images, build_scenario, predict_tta
from vision_attention.config import TrainConfig
from vision_attention.training import build_model, fit

__all__ = ["ScenarioResult", "run_study", "score_scenario", "train_scenario"]

_TTA_SEED = 10_000


@dataclass(frozen=True)
class ScenarioResult:
    """One scenario: test AUC without (``auc_train_only``) and with test-time augmentation
    (``auc_train_test``), each with its bootstrap interval, the paired gain of TTA with its interval, the
    training seconds and the predictions ``(n,)`` (probabilities of melanoma) behind them."""

    scenario: str
    auc_train_only: tuple[float, float, float]
    auc_train_test: tuple[float, float, float]
    tta_gain: tuple[float, float, float]
    train_seconds: float
    plain: np.ndarray
    tta: np.ndarray


def _check_masks(scenario: Scenario, data: LesionData, role: str) -> None:
    if scenario.mixes and data.masks is None:
        raise InputError(
            f"scenario {scenario.name} needs lesion masks of the {role} images (ISIC: the Part 1 segmentation "
            "ground truth, load_isic(masks=...)); none were loaded",
            item=data.description,
        )


def train_scenario(
    scenario: Scenario,
    data: LesionData,
    train: TrainConfig,
    width: int = 16,
    checkpoint: str | Path | None = None,
    quiet: bool = True,
) -> LesionCNN:
    """`LesionCNN` trained with binary cross-entropy on `data`, every minibatch augmented by `scenario`
    (lesion mix draws its backgrounds from `data`)."""
    _check_masks(scenario, data, "training")
    model = build_model(lambda: LesionCNN(width), train.seed)
    pool = (data.images, data.masks) if scenario.mixes else None
    tensors = [data.images, data.labels] if data.masks is None else [data.images, data.labels, data.masks]

    def loss(module: torch.nn.Module, batch: Sequence[torch.Tensor]) -> torch.Tensor:
        images, labels = batch[0], batch[1]
        masks = batch[2] if len(batch) > 2 else None
        seed = train.seed * 1_000_003 + int(module.step)
        module.step += 1
        augmented = augment_images(scenario, images, seed, masks, pool)
        return F.binary_cross_entropy_with_logits(module(augmented), labels.float())

    fit(model, loss, tensors, train, checkpoint=checkpoint, quiet=quiet)
    return model


def score_scenario(
    model: torch.nn.Module,
    scenario: Scenario,
    test: LesionData,
    copies: int,
    seed: int,
    resamples: int = 2000,
) -> tuple[np.ndarray, np.ndarray, dict[str, tuple[float, float, float]]]:
    """Plain and test-time-augmented probabilities of `test` and their AUCs with bootstrap intervals
    (``"train_only"``, ``"train_test"``, ``"tta_gain"``); lesion mix draws backgrounds from `test`."""
    _check_masks(scenario, test, "test")
    pool = (test.images, test.masks) if scenario.mixes else None
    plain = predict_tta(model, test.images, build_scenario("a-none"), 1, seed).numpy()
    tta = predict_tta(model, test.images, scenario, copies, seed + _TTA_SEED, test.masks, pool).numpy()
    labels = test.labels.numpy()
    return (
        plain,
        tta,
        {
            "train_only": bootstrap_auc(labels, plain, resamples, seed=seed),
            "train_test": bootstrap_auc(labels, tta, resamples, seed=seed),
            "tta_gain": paired_bootstrap_difference(labels, plain, tta, resamples, seed=seed),
        },
    )


def run_study(
    train_data: LesionData,
    test_data: LesionData,
    scenarios: Sequence[str],
    augment: AugmentConfig,
    train: TrainConfig,
    width: int = 16,
    folder: str | Path | None = None,
    resamples: int = 2000,
    on_result: callable | None = None,
) -> list[ScenarioResult]:
    """Every scenario of `scenarios` trained on `train_data` and scored on `test_data` (checkpoints under
    `folder` when given); `on_result` is called with each `ScenarioResult` as soon as it is computed.

    Raises:
        InputError: an unknown scenario name; a lesion-mix scenario on data without masks; images of a
            size other than ``augment.size``.
    """
    names = check_scenarios(list(scenarios))
    for data in (train_data, test_data):
        if data.images.shape[-1] != augment.size or data.images.shape[-2] != augment.size:
            raise InputError(
                "images do not have AugmentConfig.size",
                item=tuple(data.images.shape),
                expected=str(augment.size),
            )
    path = Path(folder) if folder is not None else None
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
    results = []
    for name in names:
        scenario = build_scenario(name, augment)
        config = replace(train, model=f"augment-{name}")
        began = time.perf_counter()
        checkpoint = None if path is None else path / f"{name}-seed{train.seed}.safetensors"
        model = train_scenario(scenario, train_data, config, width, checkpoint, quiet=False)
        seconds = time.perf_counter() - began
        plain, tta, aucs = score_scenario(
            model, scenario, test_data, augment.tta_copies, train.seed, resamples
        )
        result = ScenarioResult(
            scenario=name,
            auc_train_only=aucs["train_only"],
            auc_train_test=aucs["train_test"],
            tta_gain=aucs["tta_gain"],
            train_seconds=seconds,
            plain=plain,
            tta=tta,
        )
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results

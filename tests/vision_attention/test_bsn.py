import json

import numpy as np
import pytest
import torch

from core.errors import InputError
from vision_attention.bsn.config import BSNConfig, SyntheticVideoConfig
from vision_attention.bsn.data import (
    load_activitynet_annotations,
    load_thumos_annotations,
    load_videos,
    synthetic_videos,
)
from vision_attention.bsn.metrics import ar_at_an, auc, temporal_iou
from vision_attention.bsn.models import binary_logistic_loss, tem_targets
from vision_attention.bsn.proposals import bsp_features, generate_proposals, nms, soft_nms
from vision_attention.bsn.study import evaluate_proposals, predict_proposals, train_bsn, window_proposals
from vision_attention.config import TrainConfig


def test_ar_at_an_and_auc_equal_a_hand_computation():
    gt = {"a": np.array([[0, 10]]), "b": np.array([[0, 10], [20, 30]])}
    proposals = {
        "a": (np.array([[0, 10], [20, 30]]), np.array([0.9, 0.8])),
        "b": (np.array([[1, 10], [0, 5], [20, 30]]), np.array([0.4, 0.9, 0.5])),
    }
    # AN 1: a's gt hit at 0.5 and 0.9; b's top (0, 5) has tIoU 0.5 with (0, 10): 0.5 only -> (2/3 + 1/3) / 2
    # AN 2: b adds (20, 30) (tIoU 1) -> (3/3 + 2/3) / 2; AN 3: b adds (1, 10), tIoU 0.9 -> 1
    recall = ar_at_an(proposals, gt, numbers=(1, 2, 3), thresholds=(0.5, 0.9))
    assert recall == pytest.approx([0.5, 5 / 6, 1.0])
    assert auc(recall, (1, 2, 3)) == pytest.approx(((0.5 + 5 / 6) / 2 + (5 / 6 + 1) / 2) / 2)
    assert temporal_iou(np.array([[0, 5], [2, 12]]), np.array([[0, 10]])).ravel() == pytest.approx(
        [0.5, 8 / 12]
    )
    with pytest.raises(ValueError, match="no proposals for video 'b'"):
        ar_at_an({"a": proposals["a"]}, gt)


def _greedy(segments, scores, threshold):
    # brute force: walk the score order, keep a segment unless it overlaps a kept one by more than threshold
    kept = []
    for i in sorted(range(len(scores)), key=lambda k: -scores[k]):
        a = segments[i]
        if all(
            max(0, min(a[1], segments[k][1]) - max(a[0], segments[k][0]))
            / (
                a[1]
                - a[0]
                + segments[k][1]
                - segments[k][0]
                - max(0, min(a[1], segments[k][1]) - max(a[0], segments[k][0]))
            )
            <= threshold
            for k in kept
        ):
            kept.append(i)
    return kept


def test_soft_nms_with_zero_decay_is_greedy_nms():
    rng = np.random.default_rng(0)
    starts = rng.uniform(0, 0.8, 60)
    segments = np.stack([starts, starts + rng.uniform(0.02, 0.2, 60)], axis=1)
    scores = rng.uniform(size=60)
    expected = _greedy(segments.tolist(), scores.tolist(), 0.4)
    assert nms(segments, scores, 0.4).tolist() == expected
    kept, kept_scores = soft_nms(segments, scores, sigma=0, threshold=0.4)
    assert np.array_equal(kept, segments[expected]) and np.array_equal(kept_scores, scores[expected])
    # a Gaussian decay keeps every segment, re-scored, and never raises a score
    decayed, new = soft_nms(segments, scores, sigma=0.5, threshold=0.4)
    assert len(decayed) == 60 and np.all(np.diff(new) <= 1e-12) and new.max() == scores.max()
    with pytest.raises(ValueError, match="60 segments but 3 scores"):
        soft_nms(segments, scores[:3])


def test_tem_targets_bsp_features_and_peaks_by_hand():
    targets = tem_targets(np.array([[0.2, 0.6]]), 10)  # start region [0.16, 0.24], end region [0.56, 0.64]
    assert targets[0] == pytest.approx([0, 0, 1, 1, 1, 1, 0, 0, 0, 0])
    assert targets[1] == pytest.approx([0, 0.4, 0.4, 0, 0, 0, 0, 0, 0, 0])
    assert targets[2] == pytest.approx([0, 0, 0, 0, 0, 0.4, 0.4, 0, 0, 0])
    curve = (np.arange(20) + 0.5) / 20  # actionness(t) = t, linear interpolation is exact inside
    f = bsp_features(curve, np.array([[0.3, 0.7]]), center_points=5, boundary_points=3)
    assert f[0] == pytest.approx([0.22, 0.3, 0.38, 0.3, 0.4, 0.5, 0.6, 0.7, 0.62, 0.7, 0.78])
    start = np.array([0.1, 0.8, 0.1, 0.1, 0.3, 0.1, 0.1, 0.1])
    end = np.array([0.1, 0.1, 0.1, 0.2, 0.1, 0.1, 0.9, 0.1])
    segments, probs = generate_proposals(start, end, peak_ratio=0.9)
    # starts at peaks 1 and 4; ends at peaks 3 and 6; pairs with end >= start
    assert segments.tolist() == [[1 / 8, 4 / 8], [1 / 8, 7 / 8], [4 / 8, 7 / 8]]
    assert probs.tolist() == [[0.8, 0.2], [0.8, 0.9], [0.3, 0.9]]
    labels = torch.tensor([[0.9, 0.1, 0.1, 0.1]])
    p = torch.tensor([[0.8, 0.3, 0.2, 0.1]])
    hand = -(4 / 1 * np.log(0.8) + 4 / 3 * (np.log(0.7) + np.log(0.8) + np.log(0.9))) / 4
    assert float(binary_logistic_loss(p, labels)) == pytest.approx(hand, rel=1e-5)


def test_bsn_beats_sliding_windows_on_synthetic_videos(tmp_path):
    config = BSNConfig(features=8, scale=50)
    data = SyntheticVideoConfig(videos=60, features=8, scale=50)
    train, test = synthetic_videos(data, seed=0), synthetic_videos(data, seed=1)[:30]
    models = train_bsn(
        train,
        config,
        TrainConfig(model="tem", epochs=8, batch_size=8, learning_rate=3e-3),
        TrainConfig(model="pem", epochs=2, batch_size=64, learning_rate=3e-3),
        folder=tmp_path,
    )
    numbers = tuple(range(1, 51))
    bsn = evaluate_proposals(predict_proposals(models, test), test, numbers)
    windows = evaluate_proposals(window_proposals(models.tem, test, config), test, numbers)
    assert bsn["auc"] > windows["auc"] + 0.15, (bsn["auc"], windows["auc"])


def test_loaders_read_activitynet_and_thumos_files_and_name_bad_entries(tmp_path):
    notes = {
        "database": {
            "v1": {
                "duration_second": 20.0,
                "subset": "validation",
                "annotations": [{"segment": [2.0, 6.0], "label": "Run"}],
            }
        }
    }
    (tmp_path / "anno.json").write_text(json.dumps(notes))
    features = tmp_path / "features"
    features.mkdir()
    (features / "v1.csv").write_text("f0,f1\n" + "\n".join(f"{i},{2 * i}" for i in range(5)) + "\n")
    videos = load_videos(
        load_activitynet_annotations(tmp_path / "anno.json", "validation"), features, scale=10
    )
    assert videos[0].segments.tolist() == [[0.1, 0.3]] and videos[0].features.shape == (10, 2)
    assert videos[0].features[:, 1] == pytest.approx(2 * videos[0].features[:, 0])
    (tmp_path / "Run_val.txt").write_text("v1 2.0 6.0\nv1 10 12\n")
    (tmp_path / "durations.txt").write_text("v1 20\n")
    thumos = load_thumos_annotations(tmp_path, tmp_path / "durations.txt")
    assert thumos["v1"]["segments"].tolist() == [[2.0, 6.0], [10.0, 12.0]] and thumos["v1"]["labels"] == [
        "Run",
        "Run",
    ]
    notes["database"]["v1"]["annotations"][0]["segment"] = [6.0, 2.0]
    (tmp_path / "bad.json").write_text(json.dumps(notes))
    with pytest.raises(InputError, match="video 'v1', annotation 0"):
        load_activitynet_annotations(tmp_path / "bad.json")
    (features / "v1.csv").write_text("f0,f1\n1,2\n3\n")
    with pytest.raises(InputError, match="line 3"):
        load_videos(load_activitynet_annotations(tmp_path / "anno.json"), features)
    with pytest.raises(InputError, match="nms_threshold"):
        BSNConfig(nms_threshold=1.5)
    with pytest.raises(InputError, match="max_actions"):
        SyntheticVideoConfig(max_actions=30, min_length=0.05)


def test_proposal_metrics_command_prints_the_hand_computed_recall(tmp_path, capsys):
    from vision_attention.cli import main

    notes = {
        "database": {"a": {"duration_second": 40.0, "annotations": [{"segment": [0, 10], "label": "x"}]}}
    }
    results = {"results": {"a": [{"segment": [0, 5], "score": 0.9}, {"segment": [1, 10], "score": 0.5}]}}
    (tmp_path / "gt.json").write_text(json.dumps(notes))
    (tmp_path / "p.json").write_text(json.dumps(results))
    assert main(["proposal-metrics", str(tmp_path / "p.json"), str(tmp_path / "gt.json")]) == 0
    # AN 1: tIoU 0.5 reaches only the 0.5 threshold (1 of 10); AN >= 2: tIoU 0.9 reaches 0.5..0.9 (9 of 10)
    assert "AR@1 0.1000  AR@10 0.9000" in capsys.readouterr().out
    (tmp_path / "p.json").write_text(json.dumps({"results": {"a": [{"segment": [0], "score": 1}]}}))
    assert main(["proposal-metrics", str(tmp_path / "p.json"), str(tmp_path / "gt.json")]) == 2
    assert "'a', entry 0" in capsys.readouterr().err

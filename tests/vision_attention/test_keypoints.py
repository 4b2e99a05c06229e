import math

import numpy as np
import pytest
import torch

from vision_attention.keypoints.config import KeypointConfig, ViewConfig
from vision_attention.keypoints.geometry import (
    angular_distance,
    procrustes,
    project,
    rotation_mean,
    transfer,
    unproject,
    view_rotation,
)
from vision_attention.keypoints.loss import consistency_loss, pose_loss, separation_loss, silhouette_loss
from vision_attention.keypoints.models import Keypoints
from vision_attention.keypoints.render import make_pairs, make_shape, render_view


def _random_rotation(rng):
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def _truth(pairs, view, side):
    xyz = getattr(pairs, f"keypoints_{side}").double()
    return Keypoints(project(xyz, view.focal), xyz[..., 2], None, xyz)


def test_procrustes_recovers_a_known_rotation_exactly_and_never_returns_a_reflection():
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(0)
    rotation = _random_rotation(rng)
    points = rng.normal(size=(10, 3))
    moved = points @ rotation.T + rng.normal(size=3)  # any translation: centred inside
    estimate = procrustes(torch.from_numpy(points), torch.from_numpy(moved)).numpy()
    np.testing.assert_allclose(estimate, rotation, atol=1e-10)
    # a mirrored target: the best orthogonal map is a reflection; ours is the best rotation (scipy's Kabsch)
    mirrored = moved * np.array([-1.0, 1.0, 1.0])
    estimate = procrustes(torch.from_numpy(points), torch.from_numpy(mirrored)).numpy()
    centred = points - points.mean(0), mirrored - mirrored.mean(0)
    reference, _ = Rotation.align_vectors(centred[1], centred[0])
    assert np.linalg.det(estimate) == pytest.approx(1.0)
    np.testing.assert_allclose(estimate, reference.as_matrix(), atol=1e-8)
    batched = procrustes(
        torch.from_numpy(np.stack([points, points])), torch.from_numpy(np.stack([moved, mirrored]))
    )
    np.testing.assert_allclose(batched[0].numpy(), rotation, atol=1e-10)


def test_angular_distance_is_the_rotation_angle_and_the_mean_of_one_rotation_is_itself():
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(1)
    first, second = _random_rotation(rng), _random_rotation(rng)
    angle = Rotation.from_matrix(first.T @ second).magnitude()
    assert float(angular_distance(torch.from_numpy(first), torch.from_numpy(second))) == pytest.approx(
        angle, abs=1e-6
    )
    spin = torch.from_numpy(Rotation.from_rotvec([0.0, 0.7, 0.0]).as_matrix())
    assert float(angular_distance(spin, torch.eye(3, dtype=torch.float64))) == pytest.approx(0.7, abs=1e-6)
    np.testing.assert_allclose(
        rotation_mean(torch.from_numpy(np.stack([first] * 3))).numpy(), first, atol=1e-10
    )


def test_projection_round_trips_and_views_agree_with_their_relative_rotation():
    view = ViewConfig()
    pairs = make_pairs("chair", 4, view, seed=3)
    xyz = pairs.keypoints_a.double()
    back = unproject(project(xyz, view.focal), xyz[..., 2], view.focal)
    np.testing.assert_allclose(back.numpy(), xyz.numpy(), atol=1e-12)
    rotation = pairs.rotation_ab.double()
    moved = transfer(xyz, rotation, view.distance)
    np.testing.assert_allclose(moved.numpy(), pairs.keypoints_b.double().numpy(), atol=1e-5)
    there_and_back = transfer(moved, rotation.transpose(-1, -2), view.distance)
    np.testing.assert_allclose(there_and_back.numpy(), xyz.numpy(), atol=1e-6)


def test_renderer_is_deterministic_given_the_seed_and_its_silhouette_is_the_projected_box():
    from matplotlib.path import Path
    from scipy.spatial import ConvexHull

    view = ViewConfig(size=32)
    first, again, other = (make_pairs("lshape", 3, view, seed=s) for s in (5, 5, 6))
    assert torch.equal(first.images_a, again.images_a) and torch.equal(first.rotation_ab, again.rotation_ab)
    assert not torch.equal(first.images_a, other.images_a)
    assert first.images_a.min() >= 0 and first.images_a.max() <= 1
    assert torch.equal(first.masks_a > 0, first.images_a.sum(1) > 0)
    # one box: its silhouette is the convex hull of its projected corners (an independent rasterisation)
    shape = make_shape("box", np.random.default_rng(0))
    rotation = view_rotation(0.6, 0.4)
    _, mask, depth = render_view(shape, rotation, view)
    corners = np.array(
        [
            [shape.boxes[0, i, 0], shape.boxes[0, j, 1], shape.boxes[0, k, 2]]
            for i in (0, 1)
            for j in (0, 1)
            for k in (0, 1)
        ]
    )
    uv = project(torch.from_numpy(corners @ rotation.T + [0, 0, view.distance]), view.focal).numpy()
    hull = Path(uv[ConvexHull(uv).vertices])
    grid = (np.arange(view.size) + 0.5) / view.size * 2 - 1
    v, u = np.meshgrid(grid, grid, indexing="ij")
    inside = hull.contains_points(np.stack([u.ravel(), v.ravel()], 1)).reshape(mask.shape)
    assert (inside != (mask > 0)).sum() <= 2  # pixel centres on the hull's edge may go either way
    assert np.all(np.isfinite(depth[mask > 0])) and np.all(depth[mask > 0] > view.distance - 1)


def test_losses_are_zero_at_their_ideal_inputs_and_positive_away_from_them():
    view = ViewConfig()
    pairs = make_pairs("box", 6, view, seed=0)
    a, b = _truth(pairs, view, "a"), _truth(pairs, view, "b")
    rotation = pairs.rotation_ab.double()
    assert float(consistency_loss(a, b, rotation, focal=view.focal, distance=view.distance)) < 1e-12
    assert float(pose_loss(a.xyz, b.xyz, rotation)) < 1e-5
    shuffled = Keypoints(b.uv.flip(1), b.z.flip(1), None, b.xyz.flip(1))  # keypoints out of order
    assert float(consistency_loss(a, shuffled, rotation, focal=view.focal, distance=view.distance)) > 1e-3
    assert float(pose_loss(a.xyz, shuffled.xyz, rotation)) > 0.1
    far = torch.tensor([[[0.0, 0, 0], [1, 0, 0], [0, 1, 0]]])
    assert float(separation_loss(far, delta=0.5)) == 0.0
    assert float(separation_loss(torch.zeros(1, 3, 3), delta=0.5)) == pytest.approx(6 * 0.25 / 9)
    masks = torch.zeros(1, 8, 8)
    masks[:, 2:6, 2:6] = 1
    maps = torch.zeros(1, 2, 8, 8)
    maps[:, :, 3, 3] = 1
    assert float(silhouette_loss(maps, masks)) == 0.0
    maps = torch.zeros(1, 2, 8, 8)
    maps[:, :, 0, 0] = 0.5
    maps[:, :, 3, 3] = 0.5
    assert float(silhouette_loss(maps, masks)) == pytest.approx(math.log(2))


def test_bad_config_and_input_raise_one_clear_error():
    from core.errors import InputError
    from vision_attention.config import TrainConfig
    from vision_attention.keypoints.study import train_keypoints

    with pytest.raises(InputError, match=r"ViewConfig\.size"):
        ViewConfig(size=4)
    with pytest.raises(InputError, match=r"ViewConfig\.elevation"):
        ViewConfig(elevation=(50.0, 10.0))
    with pytest.raises(InputError, match=r"KeypointConfig\.keypoints"):
        KeypointConfig(keypoints=2)
    with pytest.raises(InputError, match=r"KeypointConfig\.pose"):
        KeypointConfig(pose=-1.0)
    with pytest.raises(InputError, match="category"):
        make_pairs("table", 2, ViewConfig(), seed=0)
    with pytest.raises(InputError, match="procrustes"):
        procrustes(torch.zeros(4, 3), torch.zeros(5, 3))
    pairs = make_pairs("box", 2, ViewConfig(size=16), seed=0)
    with pytest.raises(InputError, match="keypoint method"):
        train_keypoints("sift", pairs, ViewConfig(size=16), KeypointConfig(), TrainConfig())


def test_supervised_keypoints_learn_pose_better_than_the_identity():
    from vision_attention.config import TrainConfig
    from vision_attention.keypoints.study import baseline_errors, pose_errors, train_keypoints

    view = ViewConfig(size=16, focal=3.5)
    train, test = make_pairs("box", 300, view, seed=0), make_pairs("box", 100, view, seed=1)
    model, history = train_keypoints(
        "supervised",
        train,
        view,
        KeypointConfig(width=8, dilations=(1, 2, 1), stride=1),
        TrainConfig(epochs=4, batch_size=32, learning_rate=3e-3),
    )
    assert history[-1]["loss"] < history[0]["loss"]
    learned = pose_errors(model, test).mean()
    identity = baseline_errors(test, torch.eye(3)).mean()
    print(f"supervised {learned:.1f} deg, identity {identity:.1f} deg")
    assert learned < identity - 30, (learned, identity)


def test_keypoint_views_command_writes_its_figure_and_refuses_an_unknown_category(tmp_path, capsys):
    import subprocess
    import sys
    from functools import partial

    from core.testing import exit_code
    from vision_attention.cli import main

    assert main(["keypoint-views", "chair", "--count", "2", "--size", "16", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "keypoint_views_chair.png").stat().st_size > 0
    assert "relative rotations" in capsys.readouterr().out
    assert partial(exit_code, main)(["keypoint-views", "table", "--out", str(tmp_path)]) == 2
    code = "import sys\nfrom vision_attention.cli import main\ntry:\n    main(['keypoint-views', '--help'])\nexcept SystemExit:\n    pass\nprint('torch' in sys.modules, file=sys.stderr)\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stderr.strip().splitlines()[-1] == "False", done.stderr

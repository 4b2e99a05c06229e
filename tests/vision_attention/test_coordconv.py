"""CoordConv: the layer's coordinate channels, the Not-so-Clevr data regenerated exactly, and the paper's
finding on a tiny budget (CoordConv extrapolates to the held-out quadrant, plain conv does not)."""

from __future__ import annotations

import pytest
import torch

from core.errors import InputError
from vision_attention.config import TrainConfig
from vision_attention.coordconv.config import CoordTaskConfig
from vision_attention.coordconv.data import (
    NUM_POSITIONS,
    QUADRANT_TEST_SIZE,
    not_so_clevr,
    split_indices,
)
from vision_attention.coordconv.layer import AddCoords, CoordConv2d, coordinate_channels
from vision_attention.coordconv.models import make_model
from vision_attention.coordconv.tasks import score, task_loss, task_tensors, train_task
from vision_attention.training import build_model, fit


@pytest.fixture(scope="module")
def data():
    return not_so_clevr()


def test_coordinate_channels_span_minus_one_to_one_left_to_right_and_top_to_bottom():
    channels = coordinate_channels(4, 5, with_r=True)
    x, y, r = channels
    assert torch.allclose(x[0], torch.linspace(-1, 1, 5)) and torch.allclose(x[:, 2], torch.zeros(4))
    assert torch.allclose(y[:, 0], torch.linspace(-1, 1, 4)) and bool((y[:, 0] == y[:, 4]).all())
    assert torch.allclose(r, torch.sqrt(x**2 + y**2)) and float(r.max()) == pytest.approx(2**0.5)


def test_add_coords_appends_two_or_three_channels_and_coordconv_drops_in_for_conv2d():
    images = torch.randn(2, 3, 6, 7)
    assert AddCoords()(images).shape == (2, 5, 6, 7)
    added = AddCoords(with_r=True)(images)
    assert added.shape == (2, 6, 6, 7) and torch.equal(added[:, :3], images)
    assert CoordConv2d(3, 4, 3, padding=1, with_r=True)(images).shape == (2, 4, 6, 7)
    with pytest.raises(InputError, match="batch of images"):
        AddCoords()(torch.randn(3, 6, 7))


def test_not_so_clevr_has_every_position_once_and_9x9_squares(data):
    assert len(data) == NUM_POSITIONS == 3136
    assert len({tuple(c) for c in data.centers.tolist()}) == 3136
    assert int(data.centers.min()) == 4 and int(data.centers.max()) == 59
    assert bool((data.squares.sum((1, 2, 3)) == 81).all()) and bool((data.onehot.sum((1, 2, 3)) == 1).all())
    # the one-hot pixel is the square's centre, and `pixel` indexes it in the flattened canvas
    flat = data.squares.flatten(1)
    assert bool((flat.gather(1, data.pixel[:, None]) == 1).all())
    assert bool((data.onehot.flatten(1).argmax(1) == data.pixel).all())
    assert torch.allclose(data.coordinates, data.centers.float() * 2 / 63 - 1)


def test_quadrant_split_holds_out_exactly_the_729_bottom_right_positions(data):
    train, test = split_indices(data.centers, "quadrant")
    assert len(test) == QUADRANT_TEST_SIZE == 729 and len(train) == 3136 - 729
    assert bool((data.centers[test] > 32).all())
    assert not bool(((data.centers[train] > 32).all(1)).any())
    uniform_train, uniform_test = split_indices(data.centers, "uniform", seed=3)
    assert len(uniform_test) == 627 and len(set(uniform_train.tolist()) | set(uniform_test.tolist())) == 3136
    assert torch.equal(split_indices(data.centers, "uniform", seed=3)[1], uniform_test)
    with pytest.raises(InputError, match="split"):
        split_indices(data.centers, "diagonal")


def test_config_refuses_unknown_task_and_bad_width():
    with pytest.raises(InputError, match="task"):
        CoordTaskConfig(task="counting")
    with pytest.raises(InputError, match="width"):
        CoordTaskConfig(width=0)


def test_coordconv_extrapolates_to_the_held_out_quadrant_where_conv_fails(data):
    """Coordinate classification (coordinates -> one of 4096 pixels) trained on every 8th position of the
    quadrant split's train half, scored on the 729 held-out positions: the paper's finding in miniature.
    Margins: CoordConv >= 0.8 held-out accuracy, deconv baseline <= 0.05."""
    train_rows, held_out = split_indices(data.centers, "quadrant")
    subset = train_rows[::8]
    inputs, targets = task_tensors(data, "classification")
    results = {}
    for model in ("coordconv", "conv"):
        config = CoordTaskConfig(task="classification", split="quadrant", model=model)
        net = build_model(lambda config=config: make_model(config), 0)
        train = TrainConfig(model=model, epochs=6, learning_rate=1e-2, batch_size=8)
        fit(net, task_loss("classification"), [inputs[subset], targets[subset]], train)
        results[model] = score(net, inputs[held_out], targets[held_out], "classification")["accuracy"]
    assert results["coordconv"] >= 0.8, results
    assert results["conv"] <= 0.05, results


def test_train_task_scores_both_halves_of_the_split(data):
    result = train_task(
        CoordTaskConfig(task="regression", split="uniform", model="conv"), TrainConfig(epochs=1), data=data
    )
    assert set(result.train_scores) == set(result.test_scores) == {"accuracy", "rmse_pixels"}
    assert 0.0 <= result.test_scores["accuracy"] <= 1.0 and result.parameters > 0


def test_coord_regressor_reads_nothing_from_an_empty_canvas():
    """Its pooled features are the change from an empty canvas: a blank image gives exactly the read-out bias."""
    from vision_attention.coordconv.models import CoordRegressor

    net = build_model(CoordRegressor, 0)
    blank = net(torch.zeros(2, 1, 64, 64))
    assert torch.allclose(blank, net.head.bias.expand(2, -1), atol=1e-6)


def test_package_exports_load_lazily():
    import vision_attention

    assert vision_attention.CoordConv2d is CoordConv2d
    assert vision_attention.GroupNorm.__module__ == "vision_attention.groupnorm.layer"
    assert set(vision_attention.__all__) <= set(dir(vision_attention))

"""Rotation and translation attacks against plain, augmented and rotation-invariant CNNs (summary sec. 27).

Engstrom et al.'s grid adversary (`robust.attacks.SpatialGrid`: rotations up to 30 degrees, shifts up
to 3 pixels) against three small CNNs of the same layout on MNIST-5000: a plain CNN, the same CNN
trained on randomly rotated and translated images drawn from the attack's budget (the paper's data
augmentation), and a p4 group-equivariant CNN (Cohen & Welling 2016) written here: `P4Lift` (one
filter in four 90-degree rotations) and `P4Conv` (filters rotated and cycled along the rotation axis),
then rotation pooling (max over the four rotations) and global max pooling, so that the network is
exactly invariant to 90-degree rotations of its input (tested) though not to the attack's small ones.
The summary (sec. 27, Dumont et al.) compares rotation-invariant and common CNNs under these attacks
and reports that they succeed far more on CIFAR-10 than on MNIST; it gives no number for the
rotation-invariant networks.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from core.cli import RunOptions
from core.errors import InputError
from core.results import ResultTable

__all__ = ["ROTATION", "P4Conv", "P4Lift", "RotationCNN", "augment", "study"]

ROTATION = {
    "smoke": {
        "widths": (8, 16, 32),
        "epochs": 8,
        "n_test": 200,
        "rotations": 11,
        "shifts": 5,
        "p4_augmented": False,
    },
    "full": {
        "widths": (16, 32, 64),
        "epochs": 30,
        "n_test": 1000,
        "rotations": 31,
        "shifts": 7,
        "p4_augmented": True,
    },
}
"""Channels per layer (of the p4 net; the plain nets get twice as many), epochs, test images attacked,
grid points per range (paper, MNIST: 31 rotations x 5 x 5 shifts), and whether to add an augmented p4 net."""

MAX_DEGREES, MAX_SHIFT = 30.0, 3.0


def _rot(x: Tensor, k: int) -> Tensor:
    return torch.rot90(x, k, dims=(-2, -1))


class P4Lift(nn.Module):
    """``(n, c, h, w) -> (n, c_out, 4, h, w)``: correlation with the filter rotated by 0, 90, 180, 270 degrees.

    Rotating the input by 90 degrees rotates every output map and cycles the rotation axis by one.
    Odd kernels with 'same' zero padding keep that exact on square images.
    """

    def __init__(self, c_in: int, c_out: int, kernel: int = 3):
        super().__init__()
        if kernel % 2 == 0:
            raise InputError("p4 convolutions need an odd kernel", item=kernel)
        self.weight = nn.Parameter(torch.randn(c_out, c_in, kernel, kernel) / (c_in * kernel**2) ** 0.5)
        self.bias = nn.Parameter(torch.zeros(c_out))

    def forward(self, x: Tensor) -> Tensor:
        weight = torch.stack([_rot(self.weight, r) for r in range(4)], 1)  # (out, 4, in, k, k)
        out = nn.functional.conv2d(x, weight.flatten(0, 1), padding=self.weight.shape[-1] // 2)
        return out.unflatten(1, (-1, 4)) + self.bias[None, :, None, None, None]


class P4Conv(nn.Module):
    """``(n, c, 4, h, w) -> (n, c_out, 4, h, w)``: ``out_r = sum_s corr(f_s, rot^r psi_{(s - r) mod 4})``."""

    def __init__(self, c_in: int, c_out: int, kernel: int = 3):
        super().__init__()
        if kernel % 2 == 0:
            raise InputError("p4 convolutions need an odd kernel", item=kernel)
        scale = (4 * c_in * kernel**2) ** 0.5
        self.weight = nn.Parameter(torch.randn(c_out, c_in, 4, kernel, kernel) / scale)
        self.bias = nn.Parameter(torch.zeros(c_out))

    def forward(self, x: Tensor) -> Tensor:
        weight = torch.stack([_rot(torch.roll(self.weight, r, dims=2), r) for r in range(4)], 1)
        out = nn.functional.conv2d(
            x.flatten(1, 2), weight.flatten(0, 1).flatten(1, 2), padding=self.weight.shape[-1] // 2
        )
        return out.unflatten(1, (-1, 4)) + self.bias[None, :, None, None, None]


class RotationCNN(nn.Module):
    """Three 3x3 conv layers (ReLU, 2x2 max-pool after the first two), global max pool, linear head.

    ``p4=True``: the layers are `P4Lift`, `P4Conv`, `P4Conv` and the rotation axis is max-pooled before
    the global pool (exactly invariant to 90-degree rotations of a square input with even side after
    pooling); ``p4=False``: ordinary convolutions with twice the channels.
    """

    def __init__(self, widths: tuple[int, int, int], classes: int = 10, *, p4: bool, seed: int = 0):
        super().__init__()
        self.p4 = p4
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            if p4:
                self.convs = nn.ModuleList(
                    [P4Lift(1, widths[0]), P4Conv(widths[0], widths[1]), P4Conv(widths[1], widths[2])]
                )
                features = widths[2]
            else:
                w = [2 * c for c in widths]
                self.convs = nn.ModuleList(
                    [
                        nn.Conv2d(1, w[0], 3, padding=1),
                        nn.Conv2d(w[0], w[1], 3, padding=1),
                        nn.Conv2d(w[1], w[2], 3, padding=1),
                    ]
                )
                features = w[2]
            self.head = nn.Linear(features, classes)

    def forward(self, x: Tensor) -> Tensor:
        h = x
        for i, conv in enumerate(self.convs):
            h = torch.relu(conv(h))
            if i < 2:
                h = (
                    nn.functional.max_pool2d(h.flatten(1, 2), 2).unflatten(1, (-1, 4))
                    if self.p4
                    else nn.functional.max_pool2d(h, 2)
                )
        if self.p4:
            h = h.amax(2)  # rotation pooling
        return self.head(h.amax((-2, -1)))


def augment(x: Tensor, generator: torch.Generator) -> Tensor:
    """Each image rotated and shifted by a transform uniform in the attack's budget (+-30 degrees, +-3 px)."""
    from robust.attacks.spatial import rotate_translate

    u = torch.rand(len(x), 3, generator=generator) * 2 - 1
    return rotate_translate(x, u[:, 0] * MAX_DEGREES, u[:, 1] * MAX_SHIFT, u[:, 2] * MAX_SHIFT)


def _train(model: nn.Module, x: Tensor, y: Tensor, epochs: int, augmented: bool, seed: int) -> nn.Module:
    from core.progress import progress

    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    for _ in progress(range(epochs), desc="rotation cnn", total=epochs):
        model.train()
        for index in torch.randperm(len(x), generator=generator).split(64):
            xb = augment(x[index], generator) if augmented else x[index]
            loss = nn.functional.cross_entropy(model(xb), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


def study(options: RunOptions) -> list[ResultTable]:
    """Clean, 90-degree-rotated and grid-attack accuracy of plain, augmented and p4 CNNs; figure ``rotation.png``."""
    from core.plots import new_figure, save_figure
    from robust.attacks import SpatialGrid
    from robust.data import load_dataset

    budget = ROTATION[options.scale]
    data = load_dataset("mnist5000")
    n = budget["n_test"]
    x, y = data.x_test[:n], data.y_test[:n]
    rotations, shifts = budget["rotations"], budget["shifts"]
    table = ResultTable(
        "rotation",
        title="Grid rotation/translation attack (+-30 deg, +-3 px) against plain, augmented and p4 CNNs",
        data=f"{data.describe()}; attacks on the first {n} test images",
        notes=(
            f"Same layout for every net (three 3x3 conv layers, global max pool); p4 widths {budget['widths']} x 4 "
            f"rotations, plain nets twice the channels. Adam lr 2e-3, batch 64, {budget['epochs']} epochs; augmentation: "
            f"a uniform random transform of the attack's budget per image and step. Grid: {rotations} rotations x "
            f"{shifts} x {shifts} shifts (rotation only: {rotations}; translation only: {shifts} x {shifts}). "
            "rot90_accuracy: clean accuracy on the test images rotated by 90 degrees (the p4 net is exactly invariant)."
        ),
    )
    nets = {
        "plain CNN": (False, False),
        "plain CNN + augmentation": (False, True),
        "p4 CNN (rotation pooling)": (True, False),
    }
    if budget["p4_augmented"]:
        nets["p4 CNN + augmentation"] = (True, True)
    for name, (p4, augmented) in nets.items():
        model = RotationCNN(budget["widths"], data.num_classes, p4=p4, seed=options.seed)
        _train(model, data.x_train, data.y_train, budget["epochs"], augmented, options.seed)
        adversaries = {
            "grid_rotation_translation": SpatialGrid(model, MAX_DEGREES, MAX_SHIFT, rotations, shifts),
            "grid_rotation_only": SpatialGrid(model, MAX_DEGREES, 0.0, rotations, 1),
            "grid_translation_only": SpatialGrid(model, 0.0, MAX_SHIFT, 1, shifts),
            "worst_of_10": SpatialGrid(model, MAX_DEGREES, MAX_SHIFT, random=10, seed=options.seed),
        }
        with torch.no_grad():
            row = {
                "model": name,
                "parameters": sum(p.numel() for p in model.parameters()),
                "clean_test": float((model(data.x_test).argmax(1) == data.y_test).float().mean()),
                "rot90_accuracy": float(
                    (model(_rot(data.x_test, 1)).argmax(1) == data.y_test).float().mean()
                ),
            }
        for key, attack in adversaries.items():
            x_adv = attack(x, y)
            with torch.no_grad():
                row[key] = float((model(x_adv).argmax(1) == y).float().mean())
        table.add(**row)
    options.publish(table)
    figure = new_figure(6, 3.6)
    axis = figure.add_subplot(1, 1, 1)
    keys = [
        "clean_test",
        "grid_rotation_only",
        "grid_translation_only",
        "grid_rotation_translation",
        "worst_of_10",
    ]
    width = 0.8 / len(table.rows)
    for i, row in enumerate(table.rows):
        axis.bar([k + i * width for k in range(len(keys))], [row[k] for k in keys], width, label=row["model"])
    axis.set_xticks(
        [k + 0.4 - width / 2 for k in range(len(keys))], ["clean", "rot", "trans", "rot+trans", "wo10"]
    )
    axis.set(ylabel="accuracy", title="spatial grid attack, MNIST-5000")
    axis.legend(fontsize=7)
    save_figure(figure, Path(options.out) / "rotation.png")
    return [table]

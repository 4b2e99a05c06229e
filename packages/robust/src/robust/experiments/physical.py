"""``reproduce robust --only physical``: adversarial lighting and geometry (Liu et al. 2019, sec. 10).

The bundled MNIST digits are rendered by `robust.render` as embossed, inked reliefs under random
spherical-harmonic lighting; a LeNet is trained on the renders (checkpointed under ``out/models/``).
Table ``physical``: for the test scenes it classifies correctly, the share fooled by PGD on the
lighting coefficients (L2 budget on the 9 coefficients) and on the height-field vertices (L-inf
budget in pixels of height, Gaussian-smoothed steps), beside a random change of the same size,
with the plausibility measures: mean lighting change (and its size relative to the lighting's own
norm), mean squared Laplacian of the height change, and the pixel L-inf / L2 change of the renders.
Paper finding (Liu et al.): changing only lighting or geometry through a differentiable renderer
fools the classifier with physically plausible scenes whose pixel changes are large (their Fig. 1:
L-inf about 0.82), outside any small pixel norm-ball. Figure: ``examples_physical.png``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from core.cli import RunOptions
from core.device import pick_device
from core.results import ResultTable
from robust.attacks.physical import attack_geometry, attack_lighting
from robust.experiments.models import experiment_data
from robust.guard import evaluation_mode
from robust.models import ModelConfig
from robust.plots import save_example_grid
from robust.render import Scene, render, rendered_dataset
from robust.train import TrainConfig, fit

__all__ = ["BUDGET", "physical"]

BUDGET = {
    "smoke": {
        "epochs": 8,
        "n_test": 200,
        "steps": 20,
        "lighting_eps": (0.25, 0.5, 1.0),
        "height_eps": (0.25, 0.5, 1.0),
    },
    "full": {
        "epochs": 30,
        "n_test": 1000,
        "steps": 100,
        "lighting_eps": (0.1, 0.25, 0.5, 1.0),
        "height_eps": (0.1, 0.25, 0.5, 1.0),
    },
}
"""Training epochs of the render classifier, test scenes, attack steps and budgets."""


def _subset(scene: Scene, index: torch.Tensor) -> Scene:
    return Scene(scene.height[index], scene.albedo[index], scene.lighting[index])


def physical(options: RunOptions) -> list[ResultTable]:
    """Train the render classifier, attack lighting and geometry; returns the published table."""
    budget = BUDGET[options.scale]
    device = pick_device(options.device)
    data, _, scenes = rendered_dataset(experiment_data(options), seed=options.seed)
    config = TrainConfig(
        model=ModelConfig("lenet"), data=data.name, epochs=budget["epochs"], seed=options.seed
    )
    path = Path(options.out) / "models" / f"{data.name}-lenet-seed{options.seed}.safetensors"
    model, history = fit(data, config, checkpoint=path, device=device)
    n = budget["n_test"]
    with evaluation_mode(model), torch.no_grad():
        correct = (model(data.x_test[:n].to(device)).argmax(1) == data.y_test[:n].to(device)).cpu()
    index = torch.nonzero(correct).flatten()
    scene = _subset(scenes, index)
    scene = Scene(scene.height.to(device), scene.albedo.to(device), scene.lighting.to(device))
    y = data.y_test[index].to(device)
    generator = torch.Generator().manual_seed(options.seed)
    table = ResultTable(
        "physical",
        title=(
            f"Adversarial lighting and geometry on rendered MNIST (LeNet, test accuracy "
            f"{history[-1]['test_accuracy']:.3f}; {len(index)} of the first {n} test scenes it gets right)"
        ),
        data=data.describe(),
        notes=(
            "Liu et al. (ICLR 2019): lighting / geometry changes through a differentiable renderer fool classifiers "
            "with plausible scenes whose pixel change is large (their Fig. 1: L-inf ~0.82). Success is among correctly "
            f"classified scenes; {budget['steps']} PGD steps; random rows: a random change of the same size."
        ),
    )
    lighting_norm = float(scene.lighting.norm(dim=1).mean())
    steps = budget["steps"]
    examples = None
    for eps in budget["lighting_eps"]:
        result = attack_lighting(model, scene, y, eps=eps, alpha=eps / 4, steps=steps)
        direction = torch.randn(scene.lighting.shape, generator=generator).to(device)
        random = scene.replace(
            lighting=scene.lighting + eps * direction / direction.norm(dim=1, keepdim=True)
        )
        table.add(**_row("lighting", eps, result, model, random, y, lighting_norm))
        if eps == budget["lighting_eps"][-1]:
            examples = (render(scene)[:8], result.images[:8])
    for eps in budget["height_eps"]:
        result = attack_geometry(model, scene, y, eps=eps, alpha=2 * eps, steps=steps)
        random = scene.replace(
            height=scene.height
            + eps * torch.sign(torch.randn(scene.height.shape, generator=generator)).to(device)
        )
        table.add(**_row("geometry", eps, result, model, random, y, lighting_norm))
    options.publish(table)
    if examples is not None:
        save_example_grid(
            examples[0],
            examples[1],
            Path(options.out) / "examples_physical.png",
            title="Adversarial lighting",
        )
    return [table]


def _row(kind, eps, result, model, random, y, lighting_norm) -> dict[str, object]:
    with evaluation_mode(model), torch.no_grad():
        random_fooled = float((model(render(random)).argmax(1) != y).float().mean())
    return {
        "attack": kind,
        "eps": eps,
        "success": float(result.fooled.float().mean()),
        "random_change_success": random_fooled,
        "lighting_change": float(result.lighting_change.mean()),
        "lighting_change_relative": float(result.lighting_change.mean()) / lighting_norm,
        "height_laplacian": float(result.laplacian.mean()),
        "pixel_linf": float(result.pixel_linf.mean()),
        "pixel_l2": float(result.pixel_l2.mean()),
        "gradient_calls": float(result.gradient_calls.float().mean()),
    }

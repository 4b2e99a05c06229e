"""The differentiable renderer (gradients against finite differences, SH basis, closed forms) and
the lighting / geometry attacks on it."""

from __future__ import annotations

import math

import pytest
import torch

from core.errors import InputError
from robust.attacks.physical import attack_geometry, attack_lighting, laplacian_energy
from robust.config import ModelConfig, TrainConfig
from robust.render import Scene, directional_lighting, render, rendered_dataset, sh_basis
from robust.train import fit


def _scene(n=2, size=5, dtype=torch.float64, seed=0):
    generator = torch.Generator().manual_seed(seed)
    height = torch.rand(n, size, size, generator=generator, dtype=dtype)
    albedo = 0.5 + 0.3 * torch.rand(n, size, size, generator=generator, dtype=dtype)
    direction = torch.tensor([[0.3, 0.2, 0.93]] * n, dtype=dtype)
    lighting = directional_lighting(
        direction / direction.norm(dim=1, keepdim=True),
        torch.full((n,), 0.5, dtype=dtype),
        torch.full((n,), 0.2, dtype=dtype),
    )
    return Scene(height, albedo, lighting)


def test_renderer_gradients_match_finite_differences():
    scene = _scene()
    image = render(scene)
    assert float(image.min()) > 0 and float(image.max()) < 1  # away from the clip, where it is smooth

    def from_parts(height, albedo, lighting):
        return render(Scene(height, albedo, lighting))

    parts = tuple(t.clone().requires_grad_(True) for t in (scene.height, scene.albedo, scene.lighting))
    assert torch.autograd.gradcheck(from_parts, parts, eps=1e-6, atol=1e-6)


def test_spherical_harmonics_are_orthonormal_on_the_sphere():
    k = torch.arange(20000, dtype=torch.float64) + 0.5  # Fibonacci sphere: near-uniform quadrature points
    z = 1 - 2 * k / 20000
    phi = math.pi * (1 + 5**0.5) * k
    r = (1 - z * z).sqrt()
    points = torch.stack([r * phi.cos(), r * phi.sin(), z], 1)
    basis = sh_basis(points)
    gram = 4 * math.pi * basis.T @ basis / len(points)
    assert torch.allclose(gram, torch.eye(9, dtype=torch.float64), atol=1e-3)


def test_a_flat_surface_under_ambient_light_renders_albedo_times_ambient():
    albedo = torch.full((1, 4, 4), 0.8)
    lighting = directional_lighting(torch.tensor([[0.0, 0.0, 1.0]]), torch.zeros(1), torch.tensor([0.5]))
    assert torch.allclose(
        render(Scene(torch.zeros(1, 4, 4), albedo, lighting)), torch.full((1, 1, 4, 4), 0.4)
    )
    # a light from straight above on a flat surface: the degree-2 clamped-cosine irradiance of cos 0,
    # (1/4 + 1/2 + 5/16) = 1.0625 times the light (Ramamoorthi & Hanrahan's approximation of 1)
    above = directional_lighting(torch.tensor([[0.0, 0.0, 1.0]]), torch.tensor([0.5]), torch.zeros(1))
    assert torch.allclose(
        render(Scene(torch.zeros(1, 4, 4), torch.ones(1, 4, 4), above)), torch.full((1, 1, 4, 4), 0.53125)
    )


def test_laplacian_energy_is_zero_for_an_affine_height_change():
    rows, cols = torch.meshgrid(torch.arange(6.0), torch.arange(6.0), indexing="ij")
    assert float(laplacian_energy((0.3 * rows - 0.2 * cols + 1)[None])) == pytest.approx(0.0, abs=1e-10)
    assert float(laplacian_energy(torch.rand(1, 6, 6))) > 0


@pytest.fixture(scope="module")
def rendered(digits):
    data, _, test = rendered_dataset(digits, seed=0)
    config = TrainConfig(
        model=ModelConfig("mlp", image_size=8, widths=(64,)), data=data.name, epochs=15, batch_size=32
    )
    model, history = fit(data, config)
    return data, test, model, history


def test_lighting_and_geometry_attacks_respect_their_budgets_and_beat_random_changes(rendered):
    data, test, model, history = rendered
    assert history[-1]["test_accuracy"] > 0.5  # the renders are learnable (measured 0.67; chance 0.1)
    n = 120
    scene = Scene(test.height[:n], test.albedo[:n], test.lighting[:n])
    y = data.y_test[:n]
    light = attack_lighting(model, scene, y, eps=0.3, alpha=0.1, steps=10)
    assert float(light.lighting_change.max()) <= 0.3 + 1e-5 and torch.equal(light.scene.height, scene.height)
    direction = torch.randn(scene.lighting.shape, generator=torch.Generator().manual_seed(1))
    random = scene.replace(lighting=scene.lighting + 0.3 * direction / direction.norm(dim=1, keepdim=True))
    with torch.no_grad():
        random_fooled = float((model(render(random)).argmax(1) != y).float().mean())
    assert float(light.fooled.float().mean()) > random_fooled + 0.2
    geometry = attack_geometry(model, scene, y, eps=0.3, alpha=0.6, steps=10)
    assert float((geometry.scene.height - scene.height).abs().max()) <= 0.3 + 1e-6
    assert (
        float(geometry.fooled.float().mean())
        > float((model(render(scene)).argmax(1) != y).float().mean()) + 0.2
    )


def test_bad_scenes_and_budgets_are_refused():
    with pytest.raises(InputError, match=r"lighting must be \(2, 9\)"):
        Scene(torch.zeros(2, 4, 4), torch.ones(2, 4, 4), torch.zeros(2, 4))
    with pytest.raises(InputError, match="albedo must have the height field's shape"):
        Scene(torch.zeros(2, 4, 4), torch.ones(2, 3, 4), torch.zeros(2, 9))
    scene = _scene(dtype=torch.float32)
    with pytest.raises(InputError, match="eps must be >= 0"):
        attack_lighting(torch.nn.Flatten(), scene, torch.zeros(2, dtype=torch.long), eps=-1.0)

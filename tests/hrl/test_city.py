"""City navigation (Mirowski et al. 2018): the procedural-city env, the goal descriptor, CityNav's
frozen transfer, the StreetLearn loader, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

from core.errors import InputError
from hrl.city.agent import CityNavNet, train_citynav
from hrl.city.config import CityConfig, CityNavConfig
from hrl.city.streetlearn import load_streetlearn, write_streetlearn
from hrl.envs.city import CityNavigation, goal_descriptor, make_city, oracle_action

SMALL = CityConfig(size=3, n_landmarks=4, max_steps=30, image_size=16)


def test_env_passes_gymnasium_check_env():
    check_env(CityNavigation(SMALL), skip_render_check=True)
    import gymnasium as gym

    import hrl.envs  # noqa: F401 - registers hrl/City-v0

    env = gym.make("hrl/City-v0", config=SMALL, render_mode="rgb_array")
    env.reset(seed=0)
    assert env.render().shape == (16, 16, 3)


def _trajectory(config: CityConfig, seed: int) -> list:
    env = CityNavigation(config)
    obs, info = env.reset(seed=seed)
    out = [(obs["image"].copy(), obs["goal"].copy(), info["node"])]
    actions = np.random.default_rng(1).integers(5, size=30)
    for a in actions:
        obs, r, _, _, info = env.step(int(a))
        out.append((obs["image"].copy(), obs["goal"].copy(), info["node"], r))
    return out


def test_city_and_episodes_are_deterministic_by_seed():
    a, b = make_city(SMALL), make_city(SMALL)
    assert np.array_equal(a.tiles, b.tiles) and a.neighbors == b.neighbors
    other = make_city(CityConfig(size=3, n_landmarks=4, city_seed=5))
    assert not np.array_equal(a.tiles, other.tiles)
    for x, y in zip(_trajectory(SMALL, 3), _trajectory(SMALL, 3), strict=True):
        for u, v in zip(x, y, strict=True):
            assert np.array_equal(u, v)


def test_goal_descriptor_is_a_softmax_of_distances_summing_to_one():
    landmarks = np.array([[0.0, 0.0], [300.0, 400.0], [-100.0, 0.0]])
    g = goal_descriptor(np.array([0.0, 0.0]), landmarks, alpha=0.002)
    hand = np.exp([-0.0, -1.0, -0.2]) / np.exp([-0.0, -1.0, -0.2]).sum()
    np.testing.assert_allclose(g, hand, rtol=1e-6)
    env = CityNavigation(SMALL)
    for seed in range(5):
        obs, _ = env.reset(seed=seed)
        assert obs["goal"].sum() == pytest.approx(1.0, abs=1e-6)


def test_street_graph_stays_connected_and_forward_follows_the_heading():
    env = CityNavigation(CityConfig(size=4, delete_fraction=0.5, n_landmarks=4))
    graph = env.graph
    seen, todo = {0}, [0]
    while todo:
        for j in graph.neighbors[todo.pop()]:
            if j not in seen:
                seen.add(j)
                todo.append(j)
    assert len(seen) == 16
    for i, row in enumerate(graph.neighbors):  # heading along each edge's bearing moves along it
        for j in row:
            assert graph.forward(i, graph.bearing(i, j)) == j


def test_oracle_reaches_every_goal_and_facing_a_wall_fills_the_view():
    env = CityNavigation(SMALL)
    env.reset(seed=0)
    for _ in range(60):
        env.step(oracle_action(env))
    assert env.goals_reached >= 3  # 3 x 3 city: a goal is at most 4 moves and a few turns away
    view = env.view(0, 0)  # node (0, 0) facing north: the border wall is half a tile away
    assert not np.array_equal(view[0, 8], [150, 190, 235])  # no sky above the centre column


def test_frozen_transfer_trains_only_the_new_city_pathway():
    config = CityNavConfig(
        n_envs=2, n_steps=4, hidden_goal=8, hidden_policy=8, features=8, curriculum_steps=0
    )
    net = CityNavNet(16, SMALL.n_landmarks, config, city="A")
    net.add_city("B", 5)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    city_b = CityConfig(size=3, n_landmarks=5, max_steps=30, image_size=16, city_seed=1)
    train_citynav(net, lambda i: CityNavigation(city_b), 16, city="B", train_only="pathway")
    after = net.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith("pathways.B.") for k in changed)
    assert {k for k in before if k.startswith("pathways.B.lstm")} <= changed
    assert all(p.requires_grad for p in net.parameters())  # the flags are restored


def test_streetlearn_loader_round_trip(tmp_path):
    pano = np.random.default_rng(0).integers(0, 255, size=(8, 32, 3), dtype=np.uint8)
    panos = [
        {"id": "a", "lat": 51.5, "lng": -0.12, "heading_deg": 0.0, "neighbors": ["b"], "image": pano},
        {"id": "b", "lat": 51.5009, "lng": -0.12, "heading_deg": 90.0, "neighbors": ["c", "zz"]},
        {"id": "c", "lat": 51.5009, "lng": -0.1186, "heading_deg": 0.0, "neighbors": []},
    ]
    path = write_streetlearn(tmp_path / "city.jsonl", panos)
    graph = load_streetlearn(path, landmarks=["a", "c"])
    assert graph.ids == ["a", "b", "c"]
    assert graph.neighbors == [[1], [0, 2], [1]]  # symmetric; the unknown "zz" dropped
    assert np.array_equal(graph.panoramas[0], pano) and graph.panoramas[1] is None
    north = np.linalg.norm(graph.positions[1] - graph.positions[0])
    assert north == pytest.approx(np.radians(0.0009) * 6_371_000, rel=1e-6)  # 100.1 m
    assert graph.bearing(0, 1) == pytest.approx(0.0, abs=1e-6) and graph.bearing(1, 2) == pytest.approx(90.0)
    env = CityNavigation(CityConfig(image_size=16, n_landmarks=2), graph=graph)
    check_env(env, skip_render_check=True)
    assert env.view(0, 0).shape == (16, 16, 3)


def test_bad_inputs_raise_errors_naming_the_item(tmp_path):
    with pytest.raises(InputError, match="size"):
        CityConfig(size=1)
    with pytest.raises(InputError, match="delete_fraction"):
        CityConfig(delete_fraction=1.0)
    with pytest.raises(InputError, match="curriculum_steps"):
        CityNavConfig(curriculum_steps=-1)
    with pytest.raises(InputError, match="unknown CityConfig field"):
        CityNavigation(sizee=3)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "coords": {"lat": 0, "lng": 0}}\nnot json\n')
    with pytest.raises(InputError, match=r"bad.jsonl:2"):
        load_streetlearn(bad)
    good = write_streetlearn(tmp_path / "g.jsonl", [{"id": "a", "lat": 0.0, "lng": 0.0}])
    with pytest.raises(InputError, match="unknown landmark pano id; offending item: q"):
        load_streetlearn(good, landmarks=["q"])
    net = CityNavNet(16, 4, CityNavConfig(hidden_goal=8, hidden_policy=8, features=8))
    with pytest.raises(InputError, match="unknown train_only"):
        train_citynav(net, lambda i: CityNavigation(SMALL), 8, train_only="cnn")
    with pytest.raises(InputError, match="pathway of that name exists"):
        net.add_city("city0", 4)
    with pytest.raises(InputError, match="action outside"):
        env = CityNavigation(SMALL)
        env.reset(seed=0)
        env.step(7)

"""Does a fitted R-network treat a noisy-TV remote press (same cell, fresh noise) as reachable?

Fits `hrl.curiosity.episodic.EpisodicCuriosity`'s R-network as the curiosity study's TV-on "ecr" run
does (a random agent's STEPS steps in the smoke maze, PAIRS pairs, EPOCHS epochs of 64 minibatches,
lr 1e-3, seed 0), then on 64 probes prints the mean reachability of an observation o and itself, o
after one forward move, o after that move and one remote press, and o after 40 more random moves.

    OMP_NUM_THREADS=1 uv run python tools/probes/hrl_reachability_probe.py STEPS PAIRS EPOCHS
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch

from hrl.curiosity.config import EpisodicConfig
from hrl.curiosity.episodic import EpisodicCuriosity
from hrl.experiments.curiosity import SMOKE, _make_env


def _row(obs: np.ndarray) -> torch.Tensor:
    return torch.tensor(obs, dtype=torch.float32).reshape(1, -1)


def main(steps: int, pairs: int, epochs: int, probes: int = 64) -> np.ndarray:
    torch.set_num_threads(1)
    env = _make_env(SMOKE, "MiniGrid-FourRooms-v0", True)
    n_actions = int(env.action_space.n)  # the last one is the remote
    rng, episodes = np.random.default_rng([0, 23]), [[]]
    obs, _ = env.reset(seed=0)
    for _ in range(steps):  # the study's random-agent data
        episodes[-1].append(np.asarray(obs, np.float32).reshape(-1))
        obs, _, terminated, truncated, _ = env.step(int(rng.integers(n_actions)))
        if terminated or truncated:
            obs, _ = env.reset()
            episodes.append([])
    trajectories = [torch.from_numpy(np.stack(s)) for s in episodes if s]
    config = EpisodicConfig(lr=1e-3, epochs=epochs, minibatches=64, seed=0)
    module = EpisodicCuriosity(tuple(env.observation_space.shape), 1, config)
    start = time.time()
    fit = module.fit_reachability(trajectories, pairs=pairs)
    print("fit", fit, f"{time.time() - start:.1f} s")
    scores = []
    for i in range(probes):
        obs, _ = env.reset(seed=1000 + i)
        for _ in range(int(rng.integers(5, 60))):
            obs, *_ = env.step(int(rng.integers(n_actions - 1)))
        moved, *_ = env.step(2)  # forward; the screen keeps its picture
        pressed, *_ = env.step(n_actions - 1)
        far = pressed
        for _ in range(40):
            far, *_ = env.step(int(rng.integers(n_actions - 1)))
        with torch.no_grad():
            anchor = module.embed(_row(obs))
            scores.append(
                [
                    float(module.network.compare(anchor, module.embed(_row(o))))
                    for o in (obs, moved, pressed, far)
                ]
            )
    mean = np.array(scores).mean(0)
    print(
        f"mean R(o, o) {mean[0]:.3f}; R(o, one forward move) {mean[1]:.3f}; "
        f"R(o, forward move then remote press) {mean[2]:.3f}; R(o, then 40 more random moves) {mean[3]:.3f}"
    )
    return mean


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))

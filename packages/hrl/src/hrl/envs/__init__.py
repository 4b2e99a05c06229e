"""gymnasium environments of the package, registered under ``hrl/...`` ids on import.

``import hrl.envs`` registers ``hrl/PointMaze-v0`` and ``hrl/AntMaze-v0`` (HIRO's U-maze protocol with a point body or MuJoCo's ant,
500-step episodes); ``gymnasium.make("hrl/PointMaze-v0")`` then builds it. Modules: `hrl.envs.mazes`
(layouts and geometry), `hrl.envs.point_maze`.
"""

from __future__ import annotations

import gymnasium as gym

from hrl.envs import mazes

if "hrl/PointMaze-v0" not in gym.registry:
    gym.register("hrl/PointMaze-v0", entry_point="hrl.envs.point_maze:PointMaze", max_episode_steps=500)
if "hrl/AntMaze-v0" not in gym.registry:
    gym.register("hrl/AntMaze-v0", entry_point="hrl.envs.ant_maze:AntMaze", max_episode_steps=500)
if "hrl/AntPush-v0" not in gym.registry:
    gym.register(
        "hrl/AntPush-v0",
        entry_point="hrl.envs.ant_maze:AntMaze",
        max_episode_steps=500,
        kwargs={"layout": mazes.PUSH_MAZE},
    )

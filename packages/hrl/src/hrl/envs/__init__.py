"""gymnasium environments of the package, registered under ``hrl/...`` ids on import.

``import hrl.envs`` registers ``hrl/PointMaze-v0``, ``hrl/AntMaze-v0``, ``hrl/AntPush-v0`` and
``hrl/AntFall-v0`` (HIRO's maze protocol with a point body or MuJoCo's ant, 500-step episodes); ``gymnasium.make("hrl/PointMaze-v0")`` then builds it. Modules: `hrl.envs.mazes`
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
if "hrl/AntFall-v0" not in gym.registry:
    gym.register(
        "hrl/AntFall-v0",
        entry_point="hrl.envs.ant_maze:AntMaze",
        max_episode_steps=500,
        kwargs={"layout": mazes.FALL_MAZE},
    )

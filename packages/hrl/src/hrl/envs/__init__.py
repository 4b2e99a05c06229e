"""gymnasium environments of the package, registered under ``hrl/...`` ids on import.

``import hrl.envs`` registers ``hrl/PointMaze-v0``, ``hrl/AntMaze-v0``, ``hrl/AntPush-v0`` and
``hrl/AntFall-v0`` (HIRO's maze protocol with a point body or MuJoCo's ant, 500-step episodes) and
``hrl/RandomChain-v0`` (MAX's randomised chain) and ``hrl/Flappy-v0`` (MER's Flappy-Bird-like game); ``gymnasium.make("hrl/PointMaze-v0")`` then builds
it. Modules: `hrl.envs.mazes` (layouts and geometry), `hrl.envs.point_maze`, `hrl.envs.ant_maze`,
`hrl.envs.chain`, `hrl.envs.flappy`.
"""

from __future__ import annotations

import gymnasium as gym

from hrl.envs import mazes

_ENVIRONMENTS = {  # id -> (entry point, keyword arguments); HIRO's tasks all have 500-step episodes
    "hrl/PointMaze-v0": ("hrl.envs.point_maze:PointMaze", {}),
    "hrl/AntMaze-v0": ("hrl.envs.ant_maze:AntMaze", {}),
    "hrl/AntPush-v0": ("hrl.envs.ant_maze:AntMaze", {"layout": mazes.PUSH_MAZE}),
    "hrl/AntFall-v0": ("hrl.envs.ant_maze:AntMaze", {"layout": mazes.FALL_MAZE}),
}
for _id, (_entry, _kwargs) in _ENVIRONMENTS.items():
    if _id not in gym.registry:
        gym.register(_id, entry_point=_entry, max_episode_steps=500, kwargs=_kwargs)
if "hrl/PointRoom-v0" not in gym.registry:  # DIAYN's 2-D room, (x, y) observed, 50-step episodes
    gym.register("hrl/PointRoom-v0", entry_point="hrl.envs.point_maze:make_point_room")
if "hrl/RandomChain-v0" not in gym.registry:  # MAX's chain; its episodes end by themselves (length + 9)
    gym.register("hrl/RandomChain-v0", entry_point="hrl.envs.chain:RandomChain")
if "hrl/Priors-v0" not in gym.registry:  # the human-priors platformer (rendering=... picks its look)
    gym.register("hrl/Priors-v0", entry_point="hrl.envs.priors:PriorsPlatformer")
if "hrl/Flappy-v0" not in gym.registry:  # MER's Flappy-Bird-like grid game; gap/speed/pipes as kwargs
    gym.register("hrl/Flappy-v0", entry_point="hrl.envs.flappy:FlappyBirdEnv")
if "hrl/City-v0" not in gym.registry:  # procedural-city courier task (Mirowski et al. 2018)
    gym.register("hrl/City-v0", entry_point="hrl.envs.city:CityNavigation")
for _id, _entry in (  # Zhang et al.'s natural-signal digit tasks (hrl.envs.natural)
    ("hrl/ImageCrawl-v0", "hrl.envs.natural:ImageCrawl"),
    ("hrl/ImageLocalise-v0", "hrl.envs.natural:ImageLocalise"),
):
    if _id not in gym.registry:
        gym.register(_id, entry_point=_entry)

"""``reproduce hrl``: the package's sub-experiments (``--only hiro``, ``--only exploration``,
``--only continual``).

Each entry maps a name to ``fn(options) -> tables``; the studies live in `hrl.experiments`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EXPERIMENTS"]


def _hiro(options: Any) -> list[Any]:
    from hrl.experiments.hiro import hiro

    return hiro(options)


def _exploration(options: Any) -> list[Any]:
    from hrl.experiments.exploration import exploration

    return exploration(options)


def _continual(options: Any) -> list[Any]:
    from hrl.experiments.continual import continual

    return continual(options)


def _continual_flappy(options: Any) -> list[Any]:
    from hrl.experiments.continual import continual_flappy

    return continual_flappy(options)


def _social(options: Any) -> list[Any]:
    from hrl.experiments.social import social

    return social(options)


def _rfm(options: Any) -> list[Any]:
    from hrl.experiments.rfm import rfm

    return rfm(options)


def _curiosity(options: Any) -> list[Any]:
    from hrl.experiments.curiosity import curiosity

    return curiosity(options)


def _curiosity_atari(options: Any) -> list[Any]:
    from hrl.experiments.curiosity import curiosity_atari

    return curiosity_atari(options)


def _model_based(options: Any) -> list[Any]:
    from hrl.experiments.counterfactual import model_based
    from hrl.experiments.mbmpo import mb_mpo

    return model_based(options) + mb_mpo(options)


def _pc_minigrid(options: Any) -> list[Any]:
    from hrl.experiments.pc_minigrid import pc_minigrid

    return pc_minigrid(options)


def _human(options: Any) -> list[Any]:
    from hrl.experiments.human import human

    return human(options)


def _city(options: Any) -> list[Any]:
    from hrl.experiments.city import city

    return city(options)


def _mb_mpo(options: Any) -> list[Any]:
    from hrl.experiments.mbmpo import mb_mpo

    return mb_mpo(options)


def _max_continuous(options: Any) -> list[Any]:
    from hrl.experiments.max_continuous import max_continuous

    return max_continuous(options)


def _diayn_mujoco(options: Any) -> list[Any]:
    from hrl.experiments.diayn_mujoco import diayn_mujoco

    return diayn_mujoco(options)


def _preferences(options: Any) -> list[Any]:
    from hrl.experiments.preferences import preferences

    return preferences(options)


def _natural(options: Any) -> list[Any]:
    from hrl.experiments.natural import natural

    return natural(options)


EXPERIMENTS = {
    "hiro": _hiro,
    "exploration": _exploration,
    "max-continuous": _max_continuous,
    "diayn-mujoco": _diayn_mujoco,
    "curiosity": _curiosity,
    "curiosity-atari": _curiosity_atari,
    "continual": _continual,
    "continual-flappy": _continual_flappy,
    "model-based": _model_based,
    "mb-mpo": _mb_mpo,
    "social": _social,
    "rfm": _rfm,
    "human": _human,
    "city": _city,
    "pc-minigrid": _pc_minigrid,
    "preferences": _preferences,
    "natural": _natural,
}

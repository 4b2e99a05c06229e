"""DeepMind Control tasks from pixels for PlaNet (`dm-control` from PyPI on the workspace's `mujoco`).

`DMCTask(name)` wraps ``dm_control.suite`` with PlaNet's protocol: observations are only the
64 x 64 RGB frame of camera 0 (uint8, channel-first, flattened to ``3 * 64 * 64``), an action is
repeated ``action_repeat`` times with the rewards summed, and an episode is 1,000 environment
steps (no other termination). The paper's six tasks and action repeats are in `TASKS`.

Rendering is offscreen through ``MUJOCO_GL``; when it is unset, importing this module sets ``egl``
(Mesa's EGL works headless on CPU-only machines). mujoco reads the variable when it is first
imported, so a process that imported mujoco before this module without ``MUJOCO_GL`` set cannot
render (a one-line `InputError` says so). ``osmesa`` needs libOSMesa, ``glfw`` a display.

**dm-control 1.0.50 and mujoco 4.0.0.** dm_control's generated table of MuJoCo's array fields
(``dm_control.mujoco.wrapper.mjbindings.sizes.array_sizes``) lists nine flex fields that mujoco
4.0.0 removed: seven of ``MjModel`` (``flex_vertedge``, ``flex_vertedgeadr``, ``flex_vertedgenum``,
``flex_vertmetric``, ``flexvert_J_colind``, ``flexvert_J_rowadr``, ``flexvert_J_rownnz``) and two
of ``MjData`` (``flexvert_J``, ``flexvert_length``). ``Physics`` builds its named indexers by
``getattr``-ing every field of that table, so every ``suite.load`` fails with
``AttributeError: 'MjModel' object has no attribute 'flex_vertedge'``. `patch_dm_control_sizes`
removes from the table exactly the fields the installed ``mujoco`` does not have (none on 3.x,
where it changes nothing); no other part of dm_control reads them. With it the six tasks run on
mujoco 4.0.0 and match mujoco 3.17.0: over 200 random steps per task the returns agree to 1e-10,
the observations to 1.3e-7 and the 64 x 64 frames pixel for pixel (measured, see the README).
"""

from __future__ import annotations

import os

import numpy as np

from core.errors import InputError

os.environ.setdefault("MUJOCO_GL", "egl")

__all__ = ["FRAME_SIZE", "TASKS", "DMCTask", "patch_dm_control_sizes"]

FRAME_SIZE = 64
"""Side of an observed frame in pixels (the paper's)."""

TASKS = {
    "cartpole-swingup": ("cartpole", "swingup", 8),
    "reacher-easy": ("reacher", "easy", 4),
    "cheetah-run": ("cheetah", "run", 4),
    "finger-spin": ("finger", "spin", 2),
    "cup-catch": ("ball_in_cup", "catch", 4),
    "walker-walk": ("walker", "walk", 2),
}
"""PlaNet's six tasks: name -> (dm_control domain, task, the paper's action repeat)."""

_PATCHED: list[str] | None = None


def patch_dm_control_sizes() -> list[str]:
    """Drop from dm_control's field table the fields the installed mujoco lacks; returns them as ``struct.field``.

    Idempotent. Raises `InputError` when dm_control or mujoco cannot be imported.
    """
    global _PATCHED
    if _PATCHED is not None:
        return list(_PATCHED)
    try:
        import mujoco
        from dm_control.mujoco.wrapper.mjbindings import sizes
    except ImportError as error:  # pragma: no cover - dm-control is a dependency of genmodels
        raise InputError(
            "DeepMind Control needs dm-control and mujoco", item=str(error), expected="uv sync --all-packages"
        ) from error
    model = mujoco.MjModel.from_xml_string("<mujoco><worldbody/></mujoco>")
    structs = {"mjmodel": model, "mjdata": mujoco.MjData(model)}
    removed = []
    for name, struct in structs.items():
        for field in [f for f in sizes.array_sizes[name] if not hasattr(struct, f)]:
            del sizes.array_sizes[name][field]
            removed.append(f"{name}.{field}")
    _PATCHED = removed
    return list(removed)


def _load_triton_first() -> None:
    """Import triton (when installed) before Mesa's EGL is initialised.

    Measured here: once dm_control's EGL backend is loaded (``from dm_control import _render``
    with ``MUJOCO_GL=egl``, which every dm_control import of the suite does), importing triton
    (which ``torch.optim.Adam`` does through ``torch._dynamo``) ends the process with a
    segmentation fault; imported before, both work. So this module imports it when it is
    imported, before any dm_control import; import genmodels.planet.dmc before dm_control.
    """
    import importlib.util

    if importlib.util.find_spec("triton") is not None:
        import triton  # noqa: F401


_load_triton_first()


class DMCTask:
    """``reset(seed) -> frame``; ``step(action) -> (frame, reward, done)``; frames ``(3 * 64 * 64,)`` uint8.

    Args:
        name: one of `TASKS`.
        max_steps: environment steps per episode (paper: 1000).
        action_repeat: environment steps per action (default: the paper's for the task).
    """

    def __init__(self, name: str, max_steps: int = 1000, action_repeat: int | None = None) -> None:
        if name not in TASKS:
            raise InputError("unknown DeepMind Control task", item=name, expected=", ".join(TASKS))
        domain, task, repeat = TASKS[name]
        self.action_repeat = repeat if action_repeat is None else action_repeat
        if max_steps < 1 or self.action_repeat < 1:
            raise InputError("max_steps and action_repeat must be >= 1", item=(max_steps, self.action_repeat))
        patch_dm_control_sizes()
        from dm_control import suite

        self.name, self.max_steps = name, max_steps
        self.env = suite.load(domain, task, task_kwargs={"random": 0})
        spec = self.env.action_spec()
        if not (np.all(spec.minimum == -1.0) and np.all(spec.maximum == 1.0)):
            raise InputError("PlaNet's tasks take actions in [-1, 1]", item=(spec.minimum, spec.maximum))
        self.action_dim = int(spec.shape[0])
        self.obs_dim = 3 * FRAME_SIZE * FRAME_SIZE
        self.steps = 0

    def render(self) -> np.ndarray:
        """The current frame of camera 0: ``(3 * 64 * 64,)`` uint8, channel-first."""
        try:
            frame = self.env.physics.render(FRAME_SIZE, FRAME_SIZE, camera_id=0)
        except Exception as error:
            raise InputError(
                "DeepMind Control could not render offscreen",
                item=f"MUJOCO_GL={os.environ.get('MUJOCO_GL')}: {error}",
                expected="MUJOCO_GL=egl (Mesa EGL) or osmesa (libOSMesa), set before mujoco is first imported",
            ) from error
        return np.ascontiguousarray(frame.transpose(2, 0, 1)).reshape(-1)

    def reset(self, seed: int) -> np.ndarray:
        self.env.task.random.seed(seed % 2**32)
        self.env.reset()
        self.steps = 0
        return self.render()

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool]:
        action = np.asarray(action, np.float64)
        if action.shape != (self.action_dim,) or not np.isfinite(action).all():
            raise InputError(f"{self.name} actions are {self.action_dim} finite numbers", item=action)
        action = np.clip(action, -1.0, 1.0)
        total = 0.0
        for _ in range(self.action_repeat):
            total += float(self.env.step(action).reward or 0.0)
            self.steps += 1
            if self.steps >= self.max_steps:
                break
        return self.render(), total, self.steps >= self.max_steps

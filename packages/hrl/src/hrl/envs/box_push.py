"""A partially observed box-pushing gridworld written as a structural causal model (CF-GPS, Buesing et
al. 2019, after their PO Sokoban).

An ``n x n`` room (walls around it). The *scenario noise* ``U_s = (agent, box, target)`` fixes the
level: the agent's and the box's start cells and the target cell, all distinct, the box starting at
least one cell from every wall (so it can be pushed everywhere). The *step noise* ``U_t = (slip_t,
dir_t)`` fixes each step's execution: with ``slip_t = 1`` (probability ``slip``) the agent moves in
the random direction ``dir_t`` instead of its chosen action. Moving into the box pushes it one cell
when the cell behind it is free, otherwise nothing moves; walls block. The episode ends with reward
``1 - t / horizon`` when the box reaches the target after t steps, or with 0 at the horizon.

The agent observes its cell and the box's cell, never the target (partial observability). Given the
noise and the actions, everything is a deterministic function (`simulate`), which is what
counterfactual inference in `hrl.counterfactual` re-uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import InputError

__all__ = ["MOVES", "BoxPushSCM", "Scenario"]

MOVES = ((-1, 0), (1, 0), (0, -1), (0, 1))  # up, down, left, right as (row, col) offsets

Cell = tuple[int, int]


@dataclass(frozen=True)
class Scenario:
    """The scenario noise U_s: the agent's and the box's start cells and the target cell."""

    agent: Cell
    box: Cell
    target: Cell


class BoxPushSCM:
    """The room's structural causal model.

    Args:
        size: interior side n (>= 3); cells are (row, col) with 0 <= row, col < n.
        horizon: steps per episode.
        slip: probability that a step's action is replaced by a uniformly random direction.
        target_cells: the cells the scenario prior draws the target from (default: all cells); a
            model with a wrong prior is the same SCM with other ``target_cells``.
    """

    def __init__(
        self,
        size: int = 5,
        horizon: int = 30,
        slip: float = 0.1,
        target_cells: tuple[Cell, ...] | None = None,
    ) -> None:
        if not isinstance(size, int) or size < 3:
            raise InputError(f"BoxPushSCM size must be an integer >= 3, got {size!r}")
        if not isinstance(horizon, int) or horizon < 1:
            raise InputError(f"BoxPushSCM horizon must be an integer >= 1, got {horizon!r}")
        if not 0 <= slip < 1:
            raise InputError(f"BoxPushSCM slip must be in [0, 1), got {slip!r}")
        self.size, self.horizon, self.slip = size, horizon, float(slip)
        cells = tuple((r, c) for r in range(size) for c in range(size))
        self.cells = cells
        self.target_cells = tuple(target_cells) if target_cells is not None else cells
        if not self.target_cells or any(t not in cells for t in self.target_cells):
            raise InputError(f"BoxPushSCM target_cells must be cells of the {size} x {size} room")
        self.box_cells = tuple((r, c) for r, c in cells if 0 < r < size - 1 and 0 < c < size - 1)

    # ---- noise --------------------------------------------------------------------------
    def sample_scenario(self, rng: np.random.Generator) -> Scenario:
        """U_s from the prior: target uniform over ``target_cells``, box uniform over the inner cells
        other than it, agent uniform over the remaining cells."""
        target = self.target_cells[int(rng.integers(len(self.target_cells)))]
        boxes = [c for c in self.box_cells if c != target]
        box = boxes[int(rng.integers(len(boxes)))]
        agents = [c for c in self.cells if c not in (box, target)]
        return Scenario(agent=agents[int(rng.integers(len(agents)))], box=box, target=target)

    def sample_step_noise(self, rng: np.random.Generator) -> np.ndarray:
        """U_t for every step from the prior: (horizon, 2) rows (slip in {0, 1}, direction in 0..3)."""
        return np.stack(
            [(rng.random(self.horizon) < self.slip).astype(int), rng.integers(0, 4, self.horizon)], axis=1
        )

    # ---- mechanism ----------------------------------------------------------------------
    def inside(self, cell: Cell) -> bool:
        return 0 <= cell[0] < self.size and 0 <= cell[1] < self.size

    def move(self, agent: Cell, box: Cell, direction: int) -> tuple[Cell, Cell]:
        """The deterministic push dynamics for one executed direction."""
        dr, dc = MOVES[direction]
        ahead = (agent[0] + dr, agent[1] + dc)
        if not self.inside(ahead):
            return agent, box
        if ahead != box:
            return ahead, box
        beyond = (box[0] + dr, box[1] + dc)
        if not self.inside(beyond):
            return agent, box
        return ahead, beyond

    def step(self, agent: Cell, box: Cell, action: int, noise: np.ndarray) -> tuple[Cell, Cell]:
        """One step of the SCM: the executed direction is ``noise[1]`` if ``noise[0]`` (a slip) else ``action``."""
        return self.move(agent, box, int(noise[1]) if noise[0] else int(action))

    def reward(self, steps: int) -> float:
        """The return of an episode that put the box on the target after ``steps`` steps."""
        return 1.0 - steps / self.horizon

    def simulate(self, scenario: Scenario, noise: np.ndarray, policy) -> dict:
        """Run ``policy(agent, box, t) -> action`` in the world fixed by (scenario, noise).

        Returns:
            ``{"agents", "boxes"}`` (the t + 1 observed cells), ``"actions"``, ``"return"``,
            ``"solved"``.
        """
        agent, box = scenario.agent, scenario.box
        agents, boxes, actions = [agent], [box], []
        for t in range(self.horizon):
            action = int(policy(agent, box, t))
            agent, box = self.step(agent, box, action, noise[t])
            agents.append(agent)
            boxes.append(box)
            actions.append(action)
            if box == scenario.target:
                return {
                    "agents": agents,
                    "boxes": boxes,
                    "actions": actions,
                    "return": self.reward(t + 1),
                    "solved": True,
                }
        return {"agents": agents, "boxes": boxes, "actions": actions, "return": 0.0, "solved": False}

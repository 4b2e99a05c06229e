"""``reproduce genmodels --only causal-infogan``: plan feasibility of Causal InfoGAN against plain InfoGAN in a two-room maze.

Kurutach et al. 2018 (sec. 5, the two-room experiment and the rope plans): planning in the code
space of a Causal InfoGAN, whose pairs (o, o') are tied by a transition prior, gives plans whose
steps are feasible, where interpolating in the code space of an InfoGAN/DCGAN gives steps that
jump or pass through walls. The paper shows this qualitatively (figures of plans and of the
learned state clusters); it reports no feasibility rate to put beside ours.

Protocol here: the two-room maze of `genmodels.maze` (wall at x = 0.5, door at the top);
both GANs train on the same random one-move transitions (the InfoGAN on their single images);
tasks: a start in the lower left room and a goal in the lower right room (the straight line
crosses the wall). For each model and planner the start and goal codes are the sampled codes
whose generated images match the start and goal images best; the code path is either the
shortest path (Dijkstra) over T's likelihood graph (`causal_infogan.transition_graph`: directed
edges inside T's 95 % region, weighted by its negative log-likelihood, no radius chosen), or over
a graph of codes drawn from the prior joined within the moves the transition makes likely (mean
shift + 2 sd; 2 sigma for the fixed prior) or within one radius for all, or the straight line with
as many steps as the true shortest route needs;
the path is decoded to images, each image is read back to a position, and each consecutive pair
is checked in the true maze (`Maze.feasible`: at most one move, not through the wall).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from core.cli import RunOptions
from core.plots import new_figure, save_figure
from core.results import ResultTable, mean_sd
from genmodels.config import CausalInfoGANConfig, CausalInfoGANRunConfig
from genmodels.maze import Maze

__all__ = [
    "LIKELIHOOD_LEVEL",
    "LIKELIHOOD_PLANNER",
    "OVERRIDES",
    "SETTINGS",
    "SMOKE_VARIANTS",
    "VARIANTS",
    "blank_error",
    "evaluate_plans",
    "image_error",
    "route_transitions",
    "run",
    "tasks",
]

SMOKE_VARIANTS = ("causal-learned", "causal-learned-entropy", "causal-learned-floor", "infogan")
"""The variants `--scale smoke` trains (about 3-8 min each on the shared 2-core machine, InfoGAN twice
that): the paper's learned T, the learned T kept from collapsing by T's entropy in the bound or by an
sd floor, and InfoGAN. The others (the learned T with a KL to the fixed prior or a noise z of 1, the
local T with and without noise z, the learned T without, fixed T, joint G, info weight 4: see the
README) run at `--scale full`."""

SETTINGS = {
    "smoke": {"pairs": 20000, "epochs": 15, "tasks": 30, "nodes": 2000, "variants": SMOKE_VARIANTS},
    "full": {"pairs": 100000, "epochs": 50, "tasks": 200, "nodes": 5000, "variants": None},
}
"""Training pairs, epochs, planning tasks, graph nodes and variants (tags of `VARIANTS`; None: all) per scale
(times: see the README)."""

FIXED_RADIUS = 0.1
"""A second graph radius used for every model alike: the learned transition of the smoke run
became a near-deterministic jump (mean shift 0.72, sd 0.01 in code units), so the radius derived
from it (shift + 2 sd, 0.74) joins codes far apart; 0.1 was chosen after seeing that run (post hoc)."""


VARIANTS = (
    ("Causal InfoGAN, learned T", "causal-learned", True, True, "learned"),
    ("Causal InfoGAN, learned T + entropy", "causal-learned-entropy", True, True, "learned"),
    ("Causal InfoGAN, learned T, sd floor 0.05", "causal-learned-floor", True, True, "learned"),
    ("Causal InfoGAN, learned T + KL to prior", "causal-learned-kl", True, True, "learned"),
    ("Causal InfoGAN, learned T, noise z of 1", "causal-learned-z1", True, True, "learned"),
    ("Causal InfoGAN, learned T, no noise z", "causal-learned-z0", True, True, "learned"),
    ("Causal InfoGAN, local learned T", "causal-local", True, True, "local"),
    ("Causal InfoGAN, local learned T, no noise z", "causal-local-z0", True, True, "local"),
    ("Causal InfoGAN, local learned T, info weight 4", "causal-local-info4", True, True, "local"),
    ("Causal InfoGAN, fixed T", "causal", True, True, "fixed"),
    ("Causal InfoGAN, fixed T, joint G(z, s, s')", "causal-joint", True, False, "fixed"),
    ("InfoGAN", "infogan", False, True, "fixed"),
    ("InfoGAN, no noise z", "infogan-z0", False, True, "fixed"),
)
"""(row name, checkpoint tag, causal, shared generator, transition); "no noise z": noise_dim 0, "info
weight 4": info_weight 4, else the config's defaults (noise of 4 for a code of 2) and `OVERRIDES`."""

OVERRIDES = {
    "causal-learned-entropy": {"transition_entropy": True},
    "causal-learned-floor": {"transition_min_sd": 0.05},
    "causal-learned-kl": {"transition_kl": 1.0},
    "causal-learned-z1": {"noise_dim": 1},
}
"""Config fields per checkpoint tag beside the row name's: "+ entropy": T's entropy in the
mutual-information bound (the principled fix, see `CausalInfoGANConfig.transition_entropy`); "sd
floor 0.05": T's sd at least half the prior's; "+ KL to prior": KL(T || N(s, 0.1^2)) of weight 1."""

LIKELIHOOD_PLANNER = "T's likelihood graph"
"""The planner that needs no radius: `causal_infogan.transition_graph` (directed, edges inside T's
95 % region, weights T's negative log-likelihood), Dijkstra over it."""

LIKELIHOOD_LEVEL = 0.95
"""Probability mass of T(s' | s) whose region joins s to s' in the likelihood graph."""


def tasks(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` start positions in the lower left room and goals in the lower right room; ``(n, 2)`` each."""
    rng = np.random.default_rng(seed)
    start = np.stack([rng.uniform(0.1, 0.35, n), rng.uniform(0.1, 0.5, n)], axis=1)
    goal = np.stack([rng.uniform(0.65, 0.9, n), rng.uniform(0.1, 0.5, n)], axis=1)
    return start, goal


def route_transitions(maze: Maze, start: np.ndarray, goal: np.ndarray) -> int:
    """Moves of the true shortest route start -> door centre -> goal (or straight when no wall is crossed)."""
    door = np.array([0.5, 0.5 * (maze.door[0] + maze.door[1])])
    if maze.crosses_wall(start, goal)[0]:
        length = np.linalg.norm(door - start) + np.linalg.norm(goal - door)
    else:
        length = np.linalg.norm(goal - start)
    return max(1, int(np.ceil(length / maze.step)))


def evaluate_plans(
    maze: Maze, plans: list[np.ndarray], start: np.ndarray, goal: np.ndarray
) -> dict[str, object]:
    """Feasibility of decoded plans in the true maze.

    Args:
        plans: per task, the plan's positions read back from its images, ``(k + 1, 2)``.
        start, goal: ``(n, 2)`` the tasks' true positions.

    Returns:
        ``feasible``: mean (and sd over tasks) fraction of a plan's transitions that are one move;
        ``wall``: fraction of transitions through the wall; ``all_feasible``: fraction of plans
        with every transition feasible; ``ends``: fraction of plans whose first and last images
        are within one move of the true start and goal.
    """
    feasible, wall, whole, ends = [], [], [], []
    reach = maze.step + maze.slack
    for positions, s, g in zip(plans, start, goal):
        ok = maze.feasible(positions[:-1], positions[1:])
        feasible.append(float(ok.mean()))
        wall.append(float(maze.crosses_wall(positions[:-1], positions[1:]).mean()))
        whole.append(float(ok.all()))
        ends.append(
            float(np.linalg.norm(positions[0] - s) <= reach and np.linalg.norm(positions[-1] - g) <= reach)
        )
    return {
        "feasible transitions": mean_sd(feasible),
        "through the wall": mean_sd(wall),
        "plans all feasible": float(np.mean(whole)),
        "start and goal reached": float(np.mean(ends)),
    }


def image_error(maze: Maze, frames: np.ndarray) -> float:
    """Mean squared pixel error between images ``(k, obs_dim)`` and the renderings at their read-back positions.

    0 for the maze's own images (to the read-back grid); a plan of images that are not a point
    (blurred, several dots) scores high, so its read-back positions mean little; an all-black
    image scores `blank_error`.
    """
    return float(np.mean((maze.render(maze.locate(frames)) - frames) ** 2))


def blank_error(maze: Maze) -> float:
    """`image_error` of an all-black image (read back to a corner, where the rendering is faintest)."""
    return image_error(maze, np.zeros((1, maze.size**2)))


def run(options: RunOptions) -> list[ResultTable]:
    """Train Causal InfoGAN and InfoGAN on the maze, plan with both planners, publish feasibility and plan strips."""
    from genmodels.causal_infogan import (
        decode_plan,
        fit_causal_infogan,
        graph_path,
        interpolate,
        match_codes,
        shortest_path,
        transition_graph,
    )

    settings = SETTINGS[options.scale]
    maze = Maze()
    folder = options.out / "causal-infogan"
    pairs = torch.from_numpy(maze.pairs(settings["pairs"], options.seed))
    start, goal = tasks(settings["tasks"], options.seed + 1)
    start_images, goal_images = maze.render(start), maze.render(goal)
    train = replace(CausalInfoGANRunConfig().train, epochs=settings["epochs"], seed=options.seed)
    table = ResultTable(
        "causal_infogan",
        title="Plan feasibility in the two-room maze (start left, goal right): decoded plans checked in the true maze",
        data=f"two-room maze written here ({settings['pairs']} random one-move transitions, 16 x 16 images)",
    )
    strips: dict[str, np.ndarray] = {}
    chosen = settings["variants"]
    for name, tag, causal, shared, transition in VARIANTS:
        if chosen is not None and tag not in chosen:
            continue
        fields = {
            "obs_dim": maze.size**2,
            "causal": causal,
            "shared_generator": shared,
            "transition": transition,
            "info_weight": 4.0 if "info weight 4" in name else 1.0,
            "noise_dim": 0 if "no noise z" in name else CausalInfoGANConfig().noise_dim,
        }
        model_config = CausalInfoGANConfig(**(fields | OVERRIDES.get(tag, {})))
        config = CausalInfoGANRunConfig(model_config, train)
        model, _ = fit_causal_infogan(pairs, config, checkpoint=folder / f"{tag}.safetensors")
        model.eval()
        rng = np.random.default_rng(options.seed + 2)
        nodes = rng.uniform(-1, 1, size=(settings["nodes"], config.model.code_dim))
        z = torch.randn(1, config.model.noise_dim, generator=torch.Generator().manual_seed(options.seed))
        sources = match_codes(model, start_images, nodes, z)
        targets = match_codes(model, goal_images, nodes, z)
        node_codes = torch.as_tensor(nodes, dtype=torch.float32)
        radius = model.move_radius(node_codes)
        with torch.no_grad():
            t_mean, t_sd = model.transition_moments(node_codes)
        t_shift, t_sd = float((t_mean - node_codes).norm(dim=1).mean()), float(t_sd.mean())
        radii = {"shortest path": radius, f"shortest path, radius {FIXED_RADIUS}": FIXED_RADIUS}
        likely = transition_graph(model, nodes, LIKELIHOOD_LEVEL)
        for planner in (LIKELIHOOD_PLANNER, *radii, "linear interpolation"):
            plans, errors, unreachable = [], [], 0
            for i in range(len(start)):
                if planner == LIKELIHOOD_PLANNER:
                    path = graph_path(likely, int(sources[i]), int(targets[i]))
                    if path is None or len(path) < 2:
                        unreachable += 1
                        path = [int(sources[i]), int(targets[i])]
                    codes = nodes[path]
                elif planner in radii:
                    path = shortest_path(nodes, radii[planner], int(sources[i]), int(targets[i]))
                    if path is None or len(path) < 2:
                        unreachable += 1
                        path = [int(sources[i]), int(targets[i])]
                    codes = nodes[path]
                else:
                    steps = route_transitions(maze, start[i : i + 1], goal[i : i + 1])
                    codes = interpolate(nodes[sources[i]], nodes[targets[i]], steps)
                frames = decode_plan(model, codes, z)
                plans.append(maze.locate(frames))
                errors.append(image_error(maze, frames))
                if i == 0:
                    strips[f"{name}, {planner}"] = frames
            row = evaluate_plans(maze, plans, start, goal)
            table.add(
                model=name,
                planner=planner,
                **row,
                transitions=float(np.mean([len(p) - 1 for p in plans])),
                **{"image error": float(np.mean(errors))},
                unconnected=unreachable,
                **{"T sd": t_sd, "T shift": t_shift},
            )
    table.notes = (
        f"{settings['tasks']} tasks; {settings['epochs']} epochs of batch 64 (Adam 5e-4, betas 0.5/0.999); "
        "2-D code, 4-D noise, MLPs of 128; a pair and a single-image discriminator; transition prior "
        "N(s, 0.1^2) (fixed T) or learned from it (learned T, the paper's; local learned T: its shift bounded by "
        "0.1 per coordinate and its sd by 0.1, not in the paper); graph of "
        f"{settings['nodes']} prior codes joined within the transition's mean shift + 2 sd "
        f"(0.2 for the fixed T), or within {FIXED_RADIUS} for every model (chosen post hoc, see FIXED_RADIUS), or "
        f"'{LIKELIHOOD_PLANNER}': directed edges where s' lies in T(s' | s)'s {LIKELIHOOD_LEVEL:.0%} region, weighted "
        "by T's negative log-likelihood (no radius chosen; InfoGAN: the fixed prior N(s, 0.1^2)); 'no noise z': "
        "noise_dim 0, so every image is a function of its code; "
        "linear plans take as many steps as the true route needs. "
        "'image error': mean squared pixel error of the plan's images against renderings at their read-back "
        f"positions (0 for the maze's own images, {blank_error(maze):.4f} for an all-black image): "
        "feasibility read from images that are not a point means little. "
        "'T sd', 'T shift': T's mean sd per coordinate and mean shift length over the graph's codes (code units; "
        "InfoGAN: the fixed prior). '+ entropy': T's entropy in the mutual-information bound; 'sd floor 0.05': "
        "T's sd at least 0.05; '+ KL to prior': KL(T || N(s, 0.1^2)) of weight 1 in the generator loss. "
        "'unconnected': tasks whose start and goal codes were not connected in the graph (planned as one jump). "
        "Paper (Kurutach et al. 2018): Causal InfoGAN plans are feasible where InfoGAN/DCGAN interpolation "
        "crosses walls or jumps; shown in figures, no rate reported."
    )
    options.publish(table)
    _plot_strips(strips, maze, folder / "causal_infogan_plans.png")
    return [table]


def _plot_strips(strips: dict[str, np.ndarray], maze: Maze, path) -> None:
    """One row of plan images per model and planner (the first task), at most 12 frames each."""
    columns = 12
    figure = new_figure(columns * 0.8, len(strips) * 0.95)
    for row, (name, frames) in enumerate(strips.items()):
        chosen = np.linspace(0, len(frames) - 1, min(columns, len(frames))).round().astype(int)
        for column, index in enumerate(chosen):
            axis = figure.add_subplot(len(strips), columns, row * columns + column + 1)
            axis.imshow(
                frames[index].reshape(maze.size, maze.size), cmap="gray", origin="lower", vmin=0, vmax=1
            )
            axis.axvline(maze.size / 2 - 0.5, color="tab:red", linewidth=0.6)
            axis.set_xticks([])
            axis.set_yticks([])
            if column == 0:
                axis.set_ylabel(name, fontsize=5, rotation=0, ha="right")
    save_figure(figure, path)

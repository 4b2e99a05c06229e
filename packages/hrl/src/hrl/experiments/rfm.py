"""The relational-forward-model study (``reproduce hrl --only rfm``).

Tacchetti et al. (ICLR 2019): a graph network trained to predict teammates' next actions
(`hrl.multiagent.rfm`), read out through its edge activations, and given to a learning agent.
Here, on cooperative navigation (`hrl.envs.coop_nav`: the learner plays with scripted teammates and
should cover the landmark they leave):

1. the RFM is trained on trajectories of the teammates (the learner acting at random) and its
   accuracy on held-out episodes is compared with always predicting the most frequent action;
2. edge readout: how often the landmark whose edge into a teammate has the largest (and the smallest)
   norm is the landmark the teammate walks to (chance 1/3);
3. PPO learners (`hrl.agents.ppo.PPO`) with the RFM's output appended to the observation (the
   teammates' predicted action distributions and the learner node's embedding) against PPO on the
   plain observation, the same budget and seeds: deterministic return over held-out episodes and the
   mean training return per block of steps; a random learner and the scripted best response (walk to
   the landmark the teammates' rule leaves) as references.

The paper's finding: agents with RFM embeddings learn faster than agents without (its Figure 5), and
edge activations track which entities drive a teammate's behaviour (no single number to match).

Budgets: `SMOKE` (about 10 minutes on one core), `FULL` (hours in its docstring).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from hrl.config import PPOConfig

__all__ = ["FULL", "SMOKE", "RFMStudy", "rfm", "run_rfm_study"]


@dataclass(frozen=True)
class RFMStudy:
    """Budget of the study.

    Attributes:
        train_episodes, test_episodes: episodes of RFM training and held-out data.
        rfm_epochs, rfm_hidden: RFM training passes and width.
        seeds: PPO runs per condition (seeds ``options.seed + i``).
        eval_episodes: deterministic evaluation episodes per run.
        curve_block: training steps per point of the learning curve.
        ppo: the learners' settings (``seed`` set per run).
    """

    train_episodes: int = 200
    test_episodes: int = 50
    rfm_epochs: int = 15
    rfm_hidden: int = 32
    seeds: int = 3
    eval_episodes: int = 50
    curve_block: int = 5_000
    ppo: PPOConfig = field(
        default_factory=lambda: PPOConfig(
            hidden=(64, 64),
            n_envs=4,
            n_steps=128,
            batch_size=128,
            n_epochs=4,
            learning_rate=1e-3,
            gamma=0.95,
            ent_coef=0.01,
            total_timesteps=25_000,
        )
    )


SMOKE = RFMStudy()
"""200 + 50 episodes of RFM data, 15 epochs; PPO 25 000 steps x 3 seeds x 2 conditions (about 10 min)."""

FULL = RFMStudy(
    train_episodes=2000,
    test_episodes=200,
    rfm_epochs=30,
    seeds=10,
    eval_episodes=200,
    ppo=replace(SMOKE.ppo, total_timesteps=300_000),
    curve_block=25_000,
)
"""10 x the data, 10 seeds of 300 000 PPO steps per condition: about 3-4 CPU hours (not run)."""


def _best_response(env: Any) -> int:
    """The scripted learner: walk to the landmark the teammates' rule leaves uncovered."""
    from hrl.envs.coop_nav import step_towards

    taken = set(env.targets().tolist())
    free = [j for j in range(env.game.n_landmarks) if j not in taken]
    target = env.game.landmarks[free[0]] if free else env.game.landmarks[0]
    return step_towards(env.game.positions[0], target)


def _scripted_returns(policy: Any, episodes: int, seed: int) -> Any:
    import numpy as np

    from hrl.envs.coop_nav import CoopNavLearnerEnv

    env = CoopNavLearnerEnv()
    rng = np.random.default_rng(seed)
    returns = []
    for i in range(episodes):
        env.reset(seed=seed + i)
        total, done = 0.0, False
        while not done:
            action = policy(env) if policy is not None else int(rng.integers(5))
            _, reward, _, done, _ = env.step(action)
            total += reward
        returns.append(total)
    return np.array(returns)


def run_rfm_study(options: Any, study: RFMStudy) -> list[Any]:
    """Train the RFM, read out its edges, train PPO with and without its features; publish the tables."""
    import numpy as np

    from core.results import ResultTable, mean_sd
    from hrl.agents.ppo import PPO
    from hrl.envs.coop_nav import CoopNavLearnerEnv
    from hrl.evaluation import evaluate_policy
    from hrl.multiagent.rfm import RFMFeatures, collect_rfm_data, edge_readout, rfm_accuracy, train_rfm

    train = collect_rfm_data(study.train_episodes, options.seed)
    test = collect_rfm_data(study.test_episodes, options.seed + 1)
    model = train_rfm(train, epochs=study.rfm_epochs, hidden=study.rfm_hidden, seed=options.seed)
    mates = test["actions"][:, 1:]
    majority = float(np.bincount(mates.ravel()).max() / mates.size)
    readout = edge_readout(model, test)
    model_table = ResultTable(
        name="rfm_model",
        rows=[
            {
                "RFM accuracy (teammates' next action)": rfm_accuracy(model, test),
                "most frequent action": majority,
                "edge readout: target landmark has the largest edge norm": readout["target_is_max"],
                "target landmark has the smallest edge norm": readout["target_is_min"],
                "chance": readout["chance"],
                "mean edge norm, target landmark": readout["target_norm"],
                "mean edge norm, other landmarks": readout["other_norm"],
            }
        ],
        title="Relational forward model on cooperative navigation: prediction and edge readout (held out)",
        notes=(
            f"RFM: one graph-network block, width {study.rfm_hidden}, {study.rfm_epochs} epochs on "
            f"{study.train_episodes} episodes ({len(train['nodes'])} states), tested on {study.test_episodes} "
            "other episodes; 3 agents (2 scripted teammates with 20% random actions), 3 landmarks, 6 x 6 grid."
        ),
        data="hrl.envs.coop_nav (procedural, written here)",
    )
    options.publish(model_table)
    features = RFMFeatures(model, n_agents=3)
    conditions = {
        "PPO": lambda: CoopNavLearnerEnv(),
        "PPO + RFM embeddings": lambda: CoopNavLearnerEnv(augment=features, augment_dim=features.dim),
    }
    rows, curves = [], []
    for name, factory in conditions.items():
        finals, blocks = [], []
        for i in range(study.seeds):
            seed = options.seed + i
            agent = PPO(factory, replace(study.ppo, seed=seed))
            agent.learn()
            finals.append(
                float(evaluate_policy(agent, factory(), study.eval_episodes, seed=10_000 + seed).mean())
            )
            history = agent.history
            edges = range(0, study.ppo.total_timesteps, study.curve_block)
            blocks.append(
                [
                    float(
                        np.mean(
                            [h["return"] for h in history if lo < h["step"] <= lo + study.curve_block]
                            or [np.nan]
                        )
                    )
                    for lo in edges
                ]
            )
        rows.append({"learner": name, "deterministic return": mean_sd(finals), "runs": study.seeds})
        for b, lo in enumerate(range(0, study.ppo.total_timesteps, study.curve_block)):
            curves.append(
                {
                    "learner": name,
                    "steps": f"{lo + 1}-{lo + study.curve_block}",
                    "training return": mean_sd([blk[b] for blk in blocks]),
                }
            )
    best = _scripted_returns(_best_response, study.eval_episodes, 10_000)
    rand = _scripted_returns(None, study.eval_episodes, 10_000)
    rows.append(
        {"learner": "scripted best response", "deterministic return": mean_sd([best.mean()]), "runs": 1}
    )
    rows.append({"learner": "random", "deterministic return": mean_sd([rand.mean()]), "runs": 1})
    notes = (
        f"PPO {study.ppo.hidden}, {study.ppo.n_envs} envs x {study.ppo.n_steps} steps, {study.ppo.n_epochs} epochs, "
        f"lr {study.ppo.learning_rate}, gamma {study.ppo.gamma}, entropy {study.ppo.ent_coef}, "
        f"{study.ppo.total_timesteps} steps per run, seeds {options.seed}..{options.seed + study.seeds - 1}; "
        f"return = sum over 25 steps of the covered-landmark fraction (max 25); {study.eval_episodes} evaluation episodes."
    )
    table = ResultTable(
        name="rfm_learners",
        rows=rows,
        title="Learners with and without RFM embeddings on cooperative navigation",
        notes=notes,
        data=model_table.data,
    )
    options.publish(table)
    curve = ResultTable(
        name="rfm_learning_curves",
        rows=curves,
        title="Mean training-episode return per block of steps (mean ± sd over seeds)",
        notes=notes,
        data=model_table.data,
    )
    options.publish(curve)
    return [model_table, table, curve]


def rfm(options: Any) -> list[Any]:
    """``reproduce hrl --only rfm`` at ``options.scale`` (`SMOKE` or `FULL`)."""
    return run_rfm_study(options, SMOKE if options.scale == "smoke" else FULL)

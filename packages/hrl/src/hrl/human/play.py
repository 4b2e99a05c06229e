"""Terminal play of the priors platformer, recorded as a replayable trajectory (``hrl play priors``).

A plain input loop, so it works in any terminal, over ssh and in tests: the screen is printed as
coloured text (`hrl.envs.priors.PriorsPlatformer.text`, the rendering's own looks), then a line is
read and every key in it is one step (`KEYS`; an empty line waits one step; ``x`` quits). A death or
a timeout starts the next attempt from the start, as in the paper's game; solving ends the session.

Everything is recorded: the game's settings, every event (a step's action or the reset that starts
an attempt) with the seconds since the session began, and the game state after it. `replay` plays
the events back in a fresh game and checks every state equals the recorded one (the game is
deterministic), so a file is a faithful record of what the person did; `summarize` turns files into
the human side of the study (minutes and steps to solve, deaths, per rendering).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from core.errors import InputError

__all__ = [
    "FORMAT",
    "KEYS",
    "Trajectory",
    "add_play_commands",
    "load_trajectory",
    "play",
    "replay",
    "save_trajectory",
    "summarize",
]

FORMAT = "hrl.priors-trajectory/1"
KEYS = {".": "wait", "a": "left", "d": "right", "w": "up", "s": "down", "q": "jump-left", "e": "jump-right"}
"""Key -> action name (see `hrl.envs.priors.ACTIONS`)."""
QUIT = "x"
HELP = "keys: a left, d right, w up, s down, q jump left, e jump right, . or Enter wait, x quit (several per line)"


@dataclass
class Trajectory:
    """A recorded session.

    Attributes:
        game: the `PriorsPlatformer` keyword arguments (rendering, layout, tile, max_steps,
            rendering_seed).
        events: ``{"t": seconds, "action": int}`` or ``{"t": seconds, "reset": True}`` in order (the
            first is the first attempt's reset).
        states: the game state (``state_dict``) after each event.
        attempts: ``{"outcome", "steps", "seconds"}`` per finished attempt (``"quit"`` when left
            unfinished).
    """

    game: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    states: list[dict[str, Any]] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    format: str = FORMAT

    @property
    def solved(self) -> bool:
        return any(a["outcome"] == "solved" for a in self.attempts)

    @property
    def steps(self) -> int:
        return sum(1 for e in self.events if "action" in e)


def _game_settings(env: Any) -> dict[str, Any]:
    return {
        "rendering": env.rendering,
        "layout": list(env.layout.rows),
        "tile": env.tile,
        "max_steps": env.max_steps,
        "rendering_seed": env.rendering_seed,
    }


def play(
    env: Any,
    keys: TextIO | Iterable[str] | None = None,
    screen: TextIO | None = None,
    *,
    color: bool = True,
    clock: Callable[[], float] = time.monotonic,
) -> Trajectory:
    """Play `env` (a `PriorsPlatformer`) from lines of keys until it is solved, `x` or end of input.

    Args:
        env: the game (its rendering is what the player sees).
        keys: lines of keys (default: stdin).
        screen: where the screen is printed (default: stdout).
        color: ANSI colours (off: plain characters).
        clock: seconds, for the recorded times.
    """
    from hrl.human.config import ACTIONS

    keys = sys.stdin if keys is None else keys
    screen = sys.stdout if screen is None else screen
    action_of = {k: ACTIONS.index(name) for k, name in KEYS.items()}
    record = Trajectory(game=_game_settings(env))
    start = clock()

    def reset() -> None:
        env.reset()
        record.events.append({"t": round(clock() - start, 3), "reset": True})
        record.states.append(env.state_dict())

    def show(message: str = "") -> None:
        attempt = len(record.attempts) + 1
        screen.write(env.text(color=color) + "\n")
        screen.write(f"attempt {attempt}, step {env.steps}/{env.max_steps}. {message}\n{HELP}\n> ")
        screen.flush()

    reset()
    show()
    attempt_start = 0.0
    for line in keys:
        message, leave = "", False
        for key in line.strip() or ".":
            if key == QUIT:
                leave = True
                break
            if key not in action_of:
                message = f"(key {key!r} does nothing)"
                continue
            _, reward, terminated, truncated, _ = env.step(action_of[key])
            now = round(clock() - start, 3)
            record.events.append({"t": now, "action": action_of[key]})
            record.states.append(env.state_dict())
            if terminated or truncated:
                record.attempts.append(
                    {"outcome": env.outcome, "steps": env.steps, "seconds": round(now - attempt_start, 3)}
                )
                if reward > 0:
                    screen.write(env.text(color=color) + f"\nsolved in {record.steps} steps, {now:.0f} s\n")
                    return record
                message = f"attempt {len(record.attempts)} ended: {env.outcome}; starting again"
                attempt_start = now
                reset()
                break  # the rest of the line belonged to the lost attempt
        if leave:
            break
        show(message)
    if env.outcome is None and record.events:  # left unfinished
        now = round(clock() - start, 3)
        record.attempts.append(
            {"outcome": "quit", "steps": env.steps, "seconds": round(now - attempt_start, 3)}
        )
    return record


def save_trajectory(record: Trajectory, path: str | Path) -> Path:
    """Write `record` as JSON (atomically)."""
    from core.files import atomic_write

    text = json.dumps(asdict(record), indent=1)
    return atomic_write(Path(path), lambda tmp: Path(tmp).write_text(text))


def load_trajectory(path: str | Path) -> Trajectory:
    """Read a file written by `save_trajectory`; anything else is refused naming the file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError("cannot read a priors trajectory", item=str(path), expected=str(exc)) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError("not a priors trajectory file", item=str(path), expected=f"format {FORMAT}")
    try:
        return Trajectory(**data)
    except TypeError as exc:
        raise InputError("damaged priors trajectory", item=str(path), expected=str(exc)) from None


def replay(record: Trajectory, on_state: Callable[[Any], None] | None = None) -> int:
    """Play `record`'s events in a fresh game; every state must equal the recorded one.

    Args:
        record: the trajectory.
        on_state: called with the env after every event (to show it).

    Returns:
        the number of events replayed.

    Raises:
        InputError: a state differs (naming the event), or the record is malformed.
    """
    from hrl.envs.priors import PriorsPlatformer

    env = PriorsPlatformer(**record.game)
    if len(record.events) != len(record.states):
        raise InputError(
            "trajectory has a different number of events and states",
            item=f"{len(record.events)} events, {len(record.states)} states",
        )
    for i, (event, recorded) in enumerate(zip(record.events, record.states)):
        if event.get("reset"):
            env.reset()
        elif "action" in event:
            env.step(int(event["action"]))
        else:
            raise InputError("trajectory event is neither a reset nor an action", item=f"event {i}: {event}")
        state = env.state_dict()
        if state != recorded:
            raise InputError(
                "replay diverges from the recording", item=f"event {i}", expected=f"{recorded}, got {state}"
            )
        if on_state is not None:
            on_state(env)
    return len(record.events)


def summarize(records: Iterable[Trajectory]) -> list[dict[str, Any]]:
    """Per rendering: sessions, solved, minutes / steps / deaths to the first solve (mean over solvers)."""
    import numpy as np

    by_rendering: dict[str, list[Trajectory]] = {}
    for record in records:
        by_rendering.setdefault(record.game["rendering"], []).append(record)
    rows = []
    for rendering, group in by_rendering.items():
        solved = [r for r in group if r.solved]
        minutes = [r.events[-1]["t"] / 60.0 for r in solved]
        steps = [r.steps for r in solved]
        deaths = [sum(a["outcome"] == "died" for a in r.attempts) for r in solved]
        rows.append(
            {
                "rendering": rendering,
                "sessions": len(group),
                "solved": len(solved),
                "minutes to solve": round(float(np.mean(minutes)), 2) if solved else None,
                "steps to solve": round(float(np.mean(steps)), 1) if solved else None,
                "deaths before solving": round(float(np.mean(deaths)), 2) if solved else None,
            }
        )
    return rows


# --------------------------------------------------------------------------------------- CLI
def _play(args: Any) -> int:
    from datetime import UTC, datetime

    from hrl.envs.priors import PriorsPlatformer

    env = PriorsPlatformer(args.rendering, max_steps=args.max_steps, rendering_seed=args.rendering_seed)
    record = play(env, color=not args.no_color)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = save_trajectory(record, Path(args.out) / f"priors-{args.rendering}-{stamp}.json")
    outcome = "solved" if record.solved else "not solved"
    deaths = sum(a["outcome"] == "died" for a in record.attempts)
    seconds = record.events[-1]["t"] if record.events else 0.0
    print(f"{outcome}: {record.steps} steps, {deaths} deaths, {seconds:.0f} s; recorded {path}")
    return 0


def _replay(args: Any) -> int:
    record = load_trajectory(args.trajectory)

    def show(env: Any) -> None:
        print(env.text(color=not args.no_color) + "\n")
        time.sleep(args.delay)

    events = replay(record, show if args.show else None)
    outcome = "solved" if record.solved else "not solved"
    print(
        f"{args.trajectory}: {events} events ({record.steps} steps, {len(record.attempts)} attempts, "
        f"{record.game['rendering']} rendering) replayed; every state equals the recorded one; {outcome}"
    )
    return 0


def add_play_commands(commands: Any) -> None:
    """Add ``play priors`` and ``replay`` to the ``hrl`` command's sub-parsers (torch-free)."""
    from core.cli import add_out_option, existing_file, positive_int
    from hrl.human.config import RENDERINGS

    play_parser = commands.add_parser(
        "play", help="play a game in the terminal, recorded to a replayable file"
    )
    games = play_parser.add_subparsers(dest="game", metavar="GAME", required=True)
    priors = games.add_parser(
        "priors",
        help="the human-priors platformer (Dubey et al. 2018) in one of its renderings",
        description=f"Play the platformer as coloured text; {HELP}. The session (every key, its time "
        "and the state after it) is written to --out/priors-RENDERING-TIME.json; `hrl replay FILE` "
        "checks it.",
    )
    priors.add_argument("--rendering", choices=RENDERINGS, default="original", help="(default: original)")
    priors.add_argument(
        "--max-steps", type=positive_int, default=500, help="steps per attempt (default: 500)"
    )
    priors.add_argument(
        "--rendering-seed", type=int, default=0, help="colours of the similarity/all renderings (default: 0)"
    )
    priors.add_argument("--no-color", action="store_true", help="plain characters, no ANSI colours")
    add_out_option(priors, what="the recorded trajectory")
    priors.set_defaults(handler=_play)
    again = commands.add_parser(
        "replay", help="replay a recorded `hrl play` trajectory, checking every state against the recording"
    )
    again.add_argument("trajectory", type=existing_file, help="a file written by `hrl play priors`")
    again.add_argument("--show", action="store_true", help="print every screen")
    again.add_argument("--delay", type=float, default=0.05, help="seconds between screens with --show")
    again.add_argument("--no-color", action="store_true", help="plain characters, no ANSI colours")
    again.set_defaults(handler=_replay)

"""The one resume rule: equal configs resume, extendable (run-length) fields may change, nothing else."""

from dataclasses import dataclass, field

import pytest
import torch

from core import (
    CheckpointMismatchError,
    check_resumable,
    extendable,
    extendable_fields,
    load_checkpoint,
    save_checkpoint,
)


@dataclass(frozen=True)
class Optimiser:
    lr: float = 1e-3
    steps: int = extendable(100)


@dataclass(frozen=True)
class Run:
    hidden: int = 8
    epochs: int = extendable(10)
    optimiser: Optimiser = field(default_factory=Optimiser)


def _saved(config: Run) -> dict:
    import dataclasses
    import json

    return json.loads(json.dumps(dataclasses.asdict(config)))


def test_extendable_fields_are_found_in_nested_configs():
    assert extendable_fields(Run) == {"epochs", "optimiser.steps"}
    assert extendable_fields(Run()) == {"epochs", "optimiser.steps"}


def test_equal_configs_and_longer_runs_resume():
    check_resumable(_saved(Run()), Run())
    check_resumable(_saved(Run()), Run(epochs=50, optimiser=Optimiser(steps=1000)))


@pytest.mark.parametrize(
    ("requested", "name", "values"),
    [
        (Run(hidden=16), "hidden", "saved 8, requested 16"),
        (Run(optimiser=Optimiser(lr=0.1)), "optimiser.lr", "saved 0.001, requested 0.1"),
    ],
)
def test_any_other_difference_is_refused_naming_the_field_and_both_values(requested, name, values):
    with pytest.raises(CheckpointMismatchError, match=rf"'{name}'.*{values}") as caught:
        check_resumable(_saved(Run()), requested, source="run.safetensors")
    assert "run.safetensors" in str(caught.value) and "epochs, optimiser.steps" in str(caught.value)


def test_a_field_the_checkpoint_lacks_is_a_difference():
    saved = _saved(Run())
    del saved["hidden"]
    with pytest.raises(CheckpointMismatchError, match=r"'hidden'.*saved None"):
        check_resumable(saved, Run())


def test_load_checkpoint_applies_the_rule(tmp_path):
    path = save_checkpoint(tmp_path / "c.safetensors", {"w": torch.ones(2)}, Run(epochs=3))
    assert load_checkpoint(path, Run, resume=Run(epochs=30)).config.epochs == 3
    with pytest.raises(CheckpointMismatchError, match="'hidden'"):
        load_checkpoint(path, Run, resume=Run(hidden=4))

from dataclasses import dataclass

import pytest
import safetensors.torch
import torch

from core import CheckpointMismatchError, InputError, load_checkpoint, save_checkpoint


@dataclass(frozen=True)
class Config:
    hidden: int = 8
    lr: float = 1e-3
    sizes: tuple[int, ...] = (4, 2)
    name: str = "mtlr"


@dataclass(frozen=True)
class OtherConfig:
    hidden: int = 8
    depth: int = 3


def trained_state() -> dict:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(3):
        optimizer.zero_grad()
        model(torch.randn(16, 4)).pow(2).mean().backward()
        optimizer.step()
    return {"model": model.state_dict(), "optimizer": optimizer.state_dict()}


def assert_same(a, b):
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor)
        assert a.dtype == b.dtype and a.shape == b.shape
        assert torch.equal(
            a.view(torch.uint8) if a.dtype == torch.bfloat16 else a,
            b.view(torch.uint8) if b.dtype == torch.bfloat16 else b,
        )
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, list | tuple):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    else:
        assert a == b


def test_checkpoint_round_trips_bit_exactly_with_optimizer_state_and_config(tmp_path):
    state = trained_state()
    state["extra_tensors"] = {
        "bf16": torch.randn(3, 3).to(torch.bfloat16),
        "ints": torch.arange(5, dtype=torch.int64),
        "flags": torch.tensor([True, False]),
    }
    path = save_checkpoint(tmp_path / "run" / "ckpt.safetensors", state, Config(hidden=16), extra={"step": 3})
    loaded = load_checkpoint(path, Config)
    assert_same(state, loaded.state)
    assert loaded.config == Config(hidden=16)
    assert isinstance(loaded.config.sizes, tuple)
    assert loaded.extra == {"step": 3}


def test_restored_optimizer_continues_exactly_like_the_original(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    batches = [torch.randn(8, 3) for _ in range(4)]

    def step(m, opt, x):
        opt.zero_grad()
        m(x).pow(2).mean().backward()
        opt.step()

    for x in batches[:2]:
        step(model, optimizer, x)
    path = save_checkpoint(
        tmp_path / "c.safetensors",
        {"model": model.state_dict(), "optimizer": optimizer.state_dict()},
        Config(),
    )
    for x in batches[2:]:
        step(model, optimizer, x)

    resumed = torch.nn.Linear(3, 1)
    resumed_opt = torch.optim.Adam(resumed.parameters(), lr=0.1)
    ckpt = load_checkpoint(path, Config)
    resumed.load_state_dict(ckpt.state["model"])
    resumed_opt.load_state_dict(ckpt.state["optimizer"])
    for x in batches[2:]:
        step(resumed, resumed_opt, x)
    assert torch.equal(resumed.weight, model.weight) and torch.equal(resumed.bias, model.bias)


def test_interrupted_write_leaves_previous_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(path, {"w": torch.ones(4)}, Config())
    before = path.read_bytes()
    real_save = safetensors.torch.save_file

    def dies_midway(tensors, filename, metadata=None):
        real_save(tensors, filename, metadata=metadata)
        with open(filename, "r+b") as handle:  # a half-written file on disk ...
            handle.truncate(10)
        raise OSError("disk full")  # ... then the writer dies

    monkeypatch.setattr("core.checkpoint.save_file", dies_midway)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"w": torch.zeros(4)}, Config())
    assert path.read_bytes() == before
    assert torch.equal(load_checkpoint(path, Config).state["w"], torch.ones(4))
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.safetensors"], "temporary file left behind"


def test_loading_into_a_config_without_a_stored_field_names_the_field(tmp_path):
    path = save_checkpoint(tmp_path / "c.safetensors", {"w": torch.ones(1)}, Config())
    with pytest.raises(CheckpointMismatchError, match="'lr'"):
        load_checkpoint(path, OtherConfig)


def test_resuming_with_a_different_hyperparameter_names_field_and_values(tmp_path):
    path = save_checkpoint(tmp_path / "c.safetensors", {"w": torch.ones(1)}, Config(hidden=8))
    with pytest.raises(CheckpointMismatchError, match=r"'hidden'.*saved 8, requested 32"):
        load_checkpoint(path, Config, resume=Config(hidden=32))
    assert load_checkpoint(path, Config, resume=Config(hidden=8)).config.hidden == 8


def test_missing_required_field_is_named(tmp_path):
    @dataclass(frozen=True)
    class Needs:
        hidden: int
        layers: int

    @dataclass(frozen=True)
    class Has:
        hidden: int = 4

    path = save_checkpoint(tmp_path / "c.safetensors", {"w": torch.ones(1)}, Has())
    with pytest.raises(CheckpointMismatchError, match="'layers'"):
        load_checkpoint(path, Needs)


def test_missing_or_foreign_files_give_clear_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_checkpoint(tmp_path / "nope.safetensors", Config)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a safetensors file")
    with pytest.raises(InputError, match=r"junk\.safetensors"):
        load_checkpoint(junk, Config)
    bare = tmp_path / "bare.safetensors"
    safetensors.torch.save_file({"w": torch.ones(1)}, str(bare))
    with pytest.raises(InputError, match="no checkpoint metadata"):
        load_checkpoint(bare, Config)


def test_config_must_be_a_dataclass_instance(tmp_path):
    with pytest.raises(InputError, match="dataclass"):
        save_checkpoint(tmp_path / "c.safetensors", {"w": torch.ones(1)}, {"hidden": 3})
    assert not any(tmp_path.iterdir())


def test_tied_weights_are_saved(tmp_path):
    shared = torch.randn(3, 3)
    path = save_checkpoint(tmp_path / "c.safetensors", {"a": shared, "b": shared}, Config())
    state = load_checkpoint(path, Config).state
    assert torch.equal(state["a"], shared) and torch.equal(state["b"], shared)


@dataclass(frozen=True)
class OptimizerConfig:
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)


@dataclass(frozen=True)
class RunConfig:
    model: Config = Config()
    optimizer: OptimizerConfig = OptimizerConfig()
    warm_start: OptimizerConfig | None = None


def test_nested_configs_round_trip_as_dataclasses(tmp_path):
    config = RunConfig(
        model=Config(hidden=3), optimizer=OptimizerConfig(lr=0.5), warm_start=OptimizerConfig()
    )
    path = save_checkpoint(tmp_path / "c.safetensors", {"w": torch.ones(1)}, config)
    loaded = load_checkpoint(path, RunConfig, resume=config).config
    assert loaded == config
    assert isinstance(loaded.optimizer.betas, tuple)
    assert (
        load_checkpoint(save_checkpoint(tmp_path / "d.safetensors", {}, RunConfig()), RunConfig).config
        == RunConfig()
    )


def test_a_mismatched_nested_field_is_named_with_its_path(tmp_path):
    @dataclass(frozen=True)
    class SlimOptimizer:
        lr: float = 1e-3

    @dataclass(frozen=True)
    class SlimRun:
        model: Config = Config()
        optimizer: SlimOptimizer = SlimOptimizer()
        warm_start: SlimOptimizer | None = None

    path = save_checkpoint(tmp_path / "c.safetensors", {"w": torch.ones(1)}, RunConfig())
    with pytest.raises(CheckpointMismatchError, match=r"'optimizer\.betas'"):
        load_checkpoint(path, SlimRun)


def test_resuming_with_a_different_nested_hyperparameter_names_its_path(tmp_path):
    path = save_checkpoint(tmp_path / "c.safetensors", {"w": torch.ones(1)}, RunConfig())
    with pytest.raises(CheckpointMismatchError, match=r"'optimizer\.lr'.*saved 0\.001, requested 0\.1"):
        load_checkpoint(path, RunConfig, resume=RunConfig(optimizer=OptimizerConfig(lr=0.1)))


def test_atomic_write_gives_files_the_usual_permissions(tmp_path):
    import os

    from core import atomic_write

    previous = os.umask(0o022)
    try:
        path = atomic_write(tmp_path / "out.txt", lambda tmp: tmp.write_text("x"))
    finally:
        os.umask(previous)
    assert path.read_text() == "x"
    assert path.stat().st_mode & 0o777 == 0o644

"""Checkpoints that cannot lie: every damaged model file ends in one line naming it, exit code 2."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from core.checkpoint import _tensor_digest
from neurosat.cli import main
from neurosat.cnf import make_problem, write_dimacs
from neurosat.model import NeuroSAT, NeuroSATConfig


def _read(path):
    with safe_open(str(path), framework="pt") as handle:
        return {key: handle.get_tensor(key) for key in handle.keys()}, dict(handle.metadata())


def _rewrite(path, tensors, metadata, *, rehash: bool) -> None:
    if rehash:  # a consistent checksum, so the loader's later checks are the ones that fire
        metadata = {**metadata, "sha256": _tensor_digest(tensors)}
    save_file(tensors, str(path), metadata=metadata)


def _flip_tensor_bytes(path, tensors, metadata) -> None:
    raw = bytearray(path.read_bytes())
    raw[-7] ^= 0xFF  # a byte inside the last tensor's data
    path.write_bytes(bytes(raw))


def _nan_weight(path, tensors, metadata) -> None:
    tensors["literal_init"] = torch.full_like(tensors["literal_init"], float("nan"))
    _rewrite(path, tensors, metadata, rehash=True)


def _config_not_matching_tensors(path, tensors, metadata) -> None:
    config = json.loads(metadata["config"])
    _rewrite(path, tensors, {**metadata, "config": json.dumps({**config, "d": 16})}, rehash=True)


def _missing_tensor(path, tensors, metadata) -> None:
    del tensors["literal_vote.0.weight"]
    _rewrite(path, tensors, metadata, rehash=True)


def _broken_config_json(path, tensors, metadata) -> None:
    _rewrite(path, tensors, {**metadata, "config": '{"d": 8,'}, rehash=True)


def _truncated(path, tensors, metadata) -> None:
    path.write_bytes(path.read_bytes()[:100])


def _not_a_checkpoint(path, tensors, metadata) -> None:
    path.write_text("p cnf 1 1\n1 0\n")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_flip_tensor_bytes, "tensor bytes do not match the stored checksum"),
        (_nan_weight, "non-finite values (NaN or inf); offending item: {path}: tensor 'literal_init'"),
        (_config_not_matching_tensors, "has shape (8,) but the config builds (16,)"),
        (_missing_tensor, "a tensor is missing"),
        (_broken_config_json, "metadata 'config' is not valid JSON"),
        (_truncated, "not a readable safetensors checkpoint"),
        (_not_a_checkpoint, "not a readable safetensors checkpoint"),
    ],
)
def test_damaged_model_file_is_one_line_naming_it(tmp_path, capsys, damage, message) -> None:
    path = tmp_path / "model.safetensors"
    NeuroSAT(NeuroSATConfig(d=8, rounds=2, mlp_layers=1), generator=torch.Generator().manual_seed(0)).save(
        path
    )
    tensors, metadata = _read(path)
    damage(path, tensors, metadata)
    cnf = write_dimacs(make_problem(2, [(1, 2)]), tmp_path / "f.cnf")
    for args in (["solve", str(path), str(cnf)], ["evaluate", str(path), str(tmp_path)]):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1, err
        assert message.format(path=path) in err and str(path) in err, err

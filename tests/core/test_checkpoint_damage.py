"""A checkpoint that cannot lie: every damaged file ends in one InputError naming the file and the problem."""

import json
import struct
from dataclasses import dataclass

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from core import InputError, load_checkpoint, load_state_into, save_checkpoint


@dataclass(frozen=True)
class Config:
    hidden: int = 4


def _checkpoint(tmp_path, state=None):
    model = torch.nn.Linear(3, 4)
    return save_checkpoint(
        tmp_path / "c.safetensors", state or {"model": model.state_dict()}, Config()
    ), model


def _header(path):
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    return raw, size, json.loads(raw[8 : 8 + size])


def _rewrite_header(path, header, raw, size):
    text = json.dumps(header).encode()
    text += b" " * (size - len(text)) if len(text) <= size else b""
    path.write_bytes(struct.pack("<Q", len(text)) + text + raw[8 + size :])


def test_flipped_tensor_bytes_are_caught_by_the_checksum(tmp_path):
    path, _ = _checkpoint(tmp_path)
    raw = bytearray(path.read_bytes())
    raw[-3] ^= 0xFF  # inside the last tensor's data
    path.write_bytes(bytes(raw))
    with pytest.raises(InputError, match=r"damaged.*checksum.*c\.safetensors"):
        load_checkpoint(path, Config)


def test_non_finite_weights_are_refused_naming_the_tensor(tmp_path):
    model = torch.nn.Linear(3, 4)
    with torch.no_grad():
        model.weight[0, 0] = float("nan")
    path = save_checkpoint(tmp_path / "nan.safetensors", {"model": model.state_dict()}, Config())
    with pytest.raises(InputError, match=r"non-finite.*model\.weight"):
        load_checkpoint(path, Config)
    assert torch.isnan(load_checkpoint(path, Config, allow_nonfinite=True).state["model"]["weight"][0, 0])


def test_broken_config_json_is_one_input_error(tmp_path):
    path, _ = _checkpoint(tmp_path)
    raw, size, header = _header(path)
    header["__metadata__"]["config"] = "{not json"
    _rewrite_header(path, header, raw, size)
    with pytest.raises(InputError, match="metadata 'config' is not valid JSON"):
        load_checkpoint(path, Config)


def test_a_missing_tensor_is_one_input_error(tmp_path):
    path, _ = _checkpoint(tmp_path)
    with safe_open(str(path), framework="pt") as reader:
        metadata = reader.metadata()
        tensors = {key: reader.get_tensor(key) for key in reader.keys() if key != "model.bias"}
    metadata.pop("sha256")  # a file written without checksums (or by another tool)
    save_file(tensors, str(path), metadata=metadata)
    with pytest.raises(InputError, match=r"a tensor is missing.*model\.bias"):
        load_checkpoint(path, Config)


def test_truncated_and_foreign_files_and_folders_are_named(tmp_path):
    path, _ = _checkpoint(tmp_path)
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(InputError, match="not a readable safetensors checkpoint"):
        load_checkpoint(path, Config)
    with pytest.raises(InputError, match="is a folder"):
        load_checkpoint(tmp_path, Config)


def test_state_of_another_shape_is_refused_naming_the_tensor(tmp_path):
    path, _ = _checkpoint(tmp_path)
    state = load_checkpoint(path, Config).state["model"]
    with pytest.raises(InputError, match=r"'weight' has shape \(4, 3\) but the config builds \(5, 3\)"):
        load_state_into(torch.nn.Linear(3, 5), state, source=path)
    with pytest.raises(InputError, match="lacks tensor 'bias'"):
        load_state_into(torch.nn.Linear(3, 4), {"weight": state["weight"]}, source=path)
    load_state_into(model := torch.nn.Linear(3, 4), state, source=path)
    assert torch.equal(model.weight, state["weight"])


def test_map_location_moves_nested_state(tmp_path):
    path, _ = _checkpoint(tmp_path, {"model": {"w": torch.ones(2)}, "steps": [torch.zeros(1)]})
    loaded = load_checkpoint(path, Config, map_location="cpu")
    assert loaded.state["model"]["w"].device.type == "cpu" and loaded.state["steps"][0].shape == (1,)

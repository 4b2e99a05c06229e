"""The replay buffer: ring semantics against a brute-force list, sampling from its own generator,
exact save/load round trips, and one-line errors for bad items and damaged files."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InputError
from hrl.buffers import ReplayBuffer, transition_fields

FIELDS = {"obs": (2,), "reward": (), "seq": (3, 2)}


def _item(i: int) -> dict[str, np.ndarray]:
    return {"obs": np.array([i, -i]), "reward": np.float32(i / 2), "seq": np.full((3, 2), i)}


def _filled(n: int, capacity: int = 5, seed: int = 0) -> ReplayBuffer:
    buffer = ReplayBuffer(capacity, FIELDS, rng=np.random.default_rng(seed))
    for i in range(n):
        buffer.add(**_item(i))
    return buffer


def test_ring_keeps_the_newest_capacity_items_like_a_list():
    buffer = _filled(12, capacity=5)
    kept = list(range(12))[-5:]
    assert len(buffer) == 5
    stored = sorted(int(v) for v in buffer.data["reward"] * 2)
    assert stored == kept
    # the slot written next holds the oldest item
    assert buffer.data["obs"][buffer.position, 0] == kept[0]


def test_sample_draws_indices_from_the_buffers_generator():
    buffer = _filled(4, capacity=10, seed=3)
    batch = buffer.sample(7)
    index = np.random.default_rng(3).integers(0, 4, size=7)  # the same generator, drawn by hand
    np.testing.assert_array_equal(batch["obs"][:, 0], index)
    assert batch["seq"].shape == (7, 3, 2) and batch["seq"].dtype == np.float32
    np.testing.assert_array_equal(batch["seq"][:, 1, 0], index)


def test_save_load_round_trip_restores_contents_position_and_sampling(tmp_path):
    buffer = _filled(7, capacity=5, seed=1)
    buffer.sample(3)  # advance the generator before saving
    loaded = ReplayBuffer.load(buffer.save(tmp_path / "buffer.safetensors"))
    assert (loaded.capacity, loaded.position, len(loaded)) == (5, buffer.position, 5)
    for name in FIELDS:
        np.testing.assert_array_equal(loaded.data[name], buffer.data[name])
    for a, b in zip(buffer.sample(4).values(), loaded.sample(4).values()):
        np.testing.assert_array_equal(a, b)
    buffer.add(**_item(99))
    loaded.add(**_item(99))
    np.testing.assert_array_equal(loaded.data["obs"], buffer.data["obs"])


def test_a_partly_filled_buffer_round_trips_through_its_state_dict():
    buffer = _filled(2, capacity=6)
    other = ReplayBuffer(6, FIELDS, rng=np.random.default_rng(9))
    other.load_state_dict(buffer.state_dict())
    assert len(other) == 2 and other.position == 2
    np.testing.assert_array_equal(other.data["seq"], buffer.data["seq"])


def test_transition_fields_name_the_td3_transition():
    assert transition_fields(3, 1) == {
        "obs": (3,),
        "action": (1,),
        "reward": (),
        "next_obs": (3,),
        "terminated": (),
    }


def test_bad_buffers_and_items_are_refused_naming_the_problem(tmp_path):
    with pytest.raises(InputError, match="capacity"):
        ReplayBuffer(0, FIELDS)
    with pytest.raises(InputError, match="at least one field"):
        ReplayBuffer(3, {})
    with pytest.raises(InputError, match="'obs' has a bad shape"):
        ReplayBuffer(3, {"obs": (0,)})
    buffer = ReplayBuffer(3, FIELDS)
    with pytest.raises(InputError, match="empty"):
        buffer.sample(1)
    with pytest.raises(InputError, match=r"missing \['seq'\]"):
        buffer.add(obs=np.zeros(2), reward=0.0)
    with pytest.raises(InputError, match="'obs' has shape"):
        buffer.add(obs=np.zeros(3), reward=0.0, seq=np.zeros((3, 2)))
    with pytest.raises(InputError, match="other fields"):
        ReplayBuffer(3, {"obs": (2,)}).load_state_dict(_filled(2).state_dict())
    with pytest.raises(InputError, match="capacity"):
        ReplayBuffer(3, FIELDS).load_state_dict(_filled(5, capacity=5).state_dict())
    path = _filled(3).save(tmp_path / "buffer.safetensors")
    raw = bytearray(path.read_bytes())
    raw[-3] ^= 0xFF  # flip bits inside the tensor data
    path.write_bytes(bytes(raw))
    with pytest.raises(InputError, match="damaged"):
        ReplayBuffer.load(path)


def test_a_grown_buffer_keeps_every_item_in_order_and_a_wrapped_one_refuses_to_grow():
    buffer = _filled(4, capacity=5)
    bigger = buffer.grown(9)
    assert bigger.capacity == 9 and len(bigger) == 4 and bigger.rng is buffer.rng
    for name in FIELDS:
        np.testing.assert_array_equal(bigger.data[name][:4], buffer.data[name][:4])
    bigger.add(**_item(4))
    assert float(bigger.data["reward"][4]) == 2.0
    with pytest.raises(InputError, match="has not wrapped"):
        _filled(7, capacity=5).grown(10)

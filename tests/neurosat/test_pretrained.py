"""The shipped model loads from the installed package (no network) and classifies SR(10) above chance."""

from __future__ import annotations

import socket

import neurosat
from neurosat.bundled import pretrained_path
from neurosat.evaluation import round_curves
from neurosat.sr import generate_sr

# Measured on exactly this set (50 SR(10) pairs, seed 10) at the model's 26 rounds: accuracy 0.95,
# decoded 1.00 of the SAT formulas (4 x 26 random guesses: 0.20); see README's model card. The bounds
# leave a margin below the measured values; chance accuracy on balanced twins is 0.5.
MIN_ACCURACY = 0.85
MIN_DECODED = 0.9


def test_pretrained_model_loads_offline_and_beats_chance_on_sr10(monkeypatch) -> None:
    def no_network(*args, **kwargs):
        raise AssertionError("pretrained() tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    model = neurosat.pretrained()
    assert pretrained_path().parent.name == "weights" and pretrained_path().stat().st_size < 5_000_000
    assert (model.config.d, model.config.rounds) == (32, 26)
    problems = generate_sr(50, 10, seed=10)
    curves = round_curves(model, problems, model.config.rounds)
    assert curves.accuracy[-1] >= MIN_ACCURACY
    assert curves.decoded_by[-1] >= MIN_DECODED

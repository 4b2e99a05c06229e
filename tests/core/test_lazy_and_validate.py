import sys
import types

import pytest

from core.lazy import lazy_exports


def test_names_load_on_first_use_and_are_cached(monkeypatch):
    package = types.ModuleType("lazy_demo")
    monkeypatch.setitem(sys.modules, "lazy_demo", package)
    package.__getattr__, package.__dir__ = lazy_exports("lazy_demo", {"sqrt": "math", "dumps": "json"})
    assert "sqrt" not in vars(package) and "sqrt" in dir(package)
    assert package.sqrt(9.0) == 3.0
    assert vars(package)["sqrt"] is __import__("math").sqrt
    with pytest.raises(AttributeError, match="'lazy_demo' has no attribute 'nope'"):
        package.nope  # noqa: B018


def test_config_checks_name_the_config_field_and_value():
    from dataclasses import dataclass

    from core import InputError, require_ints, require_positive, require_seed

    @dataclass(frozen=True)
    class Run:
        steps: int = 10
        rate: float = 0.1
        seed: int = 0

    require_ints(Run(), "steps")
    require_positive(Run(), "rate")
    require_seed(Run())
    for bad, check, message in (
        (Run(steps=0), lambda c: require_ints(c, "steps"), "Run.steps must be an integer >= 1"),
        (Run(steps=True), lambda c: require_ints(c, "steps"), "Run.steps"),
        (
            Run(rate=float("inf")),
            lambda c: require_positive(c, "rate"),
            "Run.rate must be a finite number > 0",
        ),
        (Run(seed=-1), require_seed, r"Run.seed must be an integer in \[0, 2\*\*32\)"),
    ):
        with pytest.raises(InputError, match=message):
            check(bad)


def test_an_export_named_like_its_submodule_stays_the_export():
    import subprocess

    code = "import core.progress, core.provenance, core; print(callable(core.progress), callable(core.provenance))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "True"]

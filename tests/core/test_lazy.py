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

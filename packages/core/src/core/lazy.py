"""Lazy public names for a package's ``__init__`` (PEP 562): ``import pkg`` stays cheap.

    _WHERE = {"MTLR": "survival.mtlr", "load_dataset": "survival.datasets"}
    __getattr__, __dir__ = lazy_exports(__name__, _WHERE)

A name is imported from its module on first attribute access and then cached in the package's
namespace, so torch (or RDKit, scikit-learn...) loads only when code first touches a name that needs it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, where: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module-level ``__getattr__`` and ``__dir__`` for `package`, exporting `where`'s names.

    Args:
        package: the package's ``__name__``.
        where: public name -> the module that defines it.
    """

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__

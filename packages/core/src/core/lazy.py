"""Lazy public names for a package's ``__init__`` (PEP 562): ``import pkg`` stays cheap.

    _WHERE = {"MTLR": "survival.mtlr", "load_dataset": "survival.datasets"}
    __getattr__, __dir__ = lazy_exports(__name__, _WHERE)

A name is imported from its module on first attribute access and then cached in the package's
namespace, so torch (or RDKit, scikit-learn...) loads only when code first touches a name that needs it.

An exported name may equal a submodule's name (``core.progress`` the function, in ``core/progress.py``).
Importing that submodule would normally bind the package attribute to the module and hide the
function; the package's module type is switched to one that keeps exported names for the exports, so
``from core import progress`` is the function whatever was imported before. (``import core.progress as
m`` then also gives the function: reach such a module through ``sys.modules`` or ``from core.progress
import ...``.)
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


class _LazyPackage(types.ModuleType):
    """A package module whose exported names are never rebound to a same-named submodule."""

    _lazy_names: frozenset[str] = frozenset()

    def __setattr__(self, name: str, value: Any) -> None:
        if (
            name in self._lazy_names
            and isinstance(value, types.ModuleType)
            and value.__name__ == f"{self.__name__}.{name}"
        ):
            return  # the import system binding the submodule: the export keeps the name
        super().__setattr__(name, value)


def lazy_exports(
    package: str, where: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module-level ``__getattr__`` and ``__dir__`` for `package`, exporting `where`'s names.

    Args:
        package: the package's ``__name__`` (its module must be in ``sys.modules``, as it is while
            its ``__init__`` runs).
        where: public name -> the module that defines it.
    """
    module = sys.modules[package]
    if type(module) is types.ModuleType:
        module.__class__ = _LazyPackage
    object.__setattr__(module, "_lazy_names", frozenset(where))

    def __getattr__(name: str) -> Any:
        source = where.get(name)
        if source is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(source), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__

"""Modules imported on first use, so the app's first page does not wait for pandas and friends.

``pd = lazy("pandas")`` behaves like ``import pandas as pd`` except that pandas
is imported the first time an attribute is read. Annotations stay plain names
(every module using this has ``from __future__ import annotations``).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands in for a module until one of its attributes is needed."""

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def _module(self) -> ModuleType:
        return importlib.import_module(object.__getattribute__(self, "_name"))

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._module(), attribute)

    def __repr__(self) -> str:
        return f"<lazy module {object.__getattribute__(self, '_name')!r}>"


def lazy(name: str) -> Any:
    """A stand-in for the module ``name`` that imports it on first attribute access."""
    return LazyModule(name)

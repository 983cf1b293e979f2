"""The component adapter: the only module that imports what componentize-py
generates (`wit_world`, `componentize_py_types`). It converts the generated
WIT types to the SDK's dataclasses and back, by class name (they mirror each
other, see `canvas_sdk.types`), and turns a `ConfigError` into the WIT
`err`. The build's entry module (canvas_component.py) calls `export`."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any, List, Type

from componentize_py_types import Err
from wit_world.imports import types as wit

from . import types as core
from .check import ConfigError
from .strategy import Plugin


def _convert(value: Any, into: Any) -> Any:
    """`value` with every record, variant case and enum replaced by the class
    of the same name in the module `into`."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (bytes, bytearray)):  # list<u8>, e.g. level-in
        return list(value)
    if isinstance(value, Enum):
        return getattr(getattr(into, type(value).__name__), value.name)
    if isinstance(value, tuple):
        return tuple(_convert(v, into) for v in value)
    if isinstance(value, list):
        return [_convert(v, into) for v in value]
    if dataclasses.is_dataclass(value):
        cls = getattr(into, _wit_name(type(value)))
        fields = {f.name: _convert(getattr(value, f.name), into) for f in dataclasses.fields(value)}
        if cls is wit.Condition_LevelIn:
            fields["value"] = bytes(fields["value"])
        return cls(**fields)
    raise TypeError(f"cannot pass a {type(value).__name__} to the host")


def _wit_name(cls: Type[Any]) -> str:
    """The WIT class name of an SDK class (a subclass such as the builder
    `Audience` goes by its base's name)."""
    for klass in cls.__mro__:
        if klass.__module__ == core.__name__ or klass.__module__ == wit.__name__:
            return klass.__name__
    return cls.__name__


def to_core(value: Any) -> Any:
    return _convert(value, core)


def to_wit(value: Any) -> Any:
    return _convert(value, wit)


def export(strategy: Type[Plugin]) -> type:
    """The WIT `strategy` export for a `Plugin` subclass."""
    plugin = strategy()

    class Strategy:
        def describe(self) -> wit.Manifest:
            return to_wit(plugin.describe())

        def audience_for(self, config: str) -> wit.Audience:
            try:
                return to_wit(plugin.audience_for(config))
            except ConfigError as e:
                raise Err(str(e))

        def decide(self, context: wit.RunContext, members: List[wit.Member]) -> List[wit.Touch]:
            try:
                return to_wit(plugin.decide(to_core(context), to_core(members)))
            except ConfigError as e:
                raise Err(str(e))

    return Strategy

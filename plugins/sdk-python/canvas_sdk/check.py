"""Config for a strategy: parsing the effective config against the defaults,
the common checks of a value (each names the key and the allowed range, as
the Rust SDK's `check` module does: `after_days: must be at least 1 (is 0)`),
and `BenefitSpec`, a benefit as operators write it in config.

A check raises `ConfigError`; the strategy puts `invalid config for <id>: `
in front, and the host shows the message to the operator who set the value.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Dict, Mapping, Optional

from .types import Benefit, BenefitKind

#: The member levels there are: a profile's `level` is 1..=4 (V1..V4).
MEMBER_LEVELS = range(1, 5)
#: The longest channel the host accepts on a touch, in bytes.
MAX_CHANNEL_BYTES = 64
#: The longest template or gift name the host accepts on a touch, in bytes.
MAX_LABEL_BYTES = 128
#: The most a benefit in config may be worth, in yuan (the host's ceiling, 10^10 fen).
MAX_BENEFIT_YUAN = 100_000_000.0


class ConfigError(Exception):
    """A config the plugin refuses; the message is shown to the operator."""


def parse_config(raw: str, defaults: Mapping[str, Any]) -> Dict[str, Any]:
    """The effective config (a JSON object) read against the defaults: an
    unknown key is an error, a missing key takes its default, and a value must
    have the default's JSON type (an int is accepted where a float is)."""
    try:
        given = json.loads(raw)
    except ValueError as e:
        raise ConfigError(f"not JSON: {e}") from None
    if not isinstance(given, dict):
        raise ConfigError("expected a JSON object")
    config = json.loads(json.dumps(dict(defaults)))  # a deep copy: a run never changes the defaults
    for key, value in given.items():
        if key not in defaults:
            raise ConfigError(f"unknown field `{key}`, expected one of {', '.join(sorted(defaults))}")
        _check_type(key, value, defaults[key])
        config[key] = value
    return config


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "an object"
    return "null"


def _check_type(key: str, value: Any, default: Any) -> None:
    if default is not None and _kind(value) != _kind(default):
        raise ConfigError(f"{key}: must be {_kind(default)}, not {_kind(value)}")
    if isinstance(default, int) and not isinstance(default, bool) and isinstance(value, float):
        raise ConfigError(f"{key}: must be a whole number (is {value})")


def at_least(key: str, value: float, minimum: float) -> None:
    """`value` is at least `minimum`: a day or hour count where 0 makes no sense."""
    if value < minimum:
        raise ConfigError(f"{key}: must be at least {minimum} (is {value})")


def member_level(key: str, level: Any) -> None:
    """`level` is a member level (1–4)."""
    if isinstance(level, bool) or not isinstance(level, int) or level not in MEMBER_LEVELS:
        raise ConfigError(f"{key}: unknown member level; levels are 1–4")


def name(key: str, text: Any, max_bytes: int) -> None:
    """A name the host shows or passes on: text, not blank, at most
    `max_bytes` bytes of UTF-8, no control characters."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{key}: must not be empty; 1–{max_bytes} bytes")
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise ConfigError(f"{key}: is {size} bytes long; at most {max_bytes} bytes")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text):
        raise ConfigError(f"{key}: must not hold control characters; 1–{max_bytes} bytes of text")


def channel(key: str, value: Any) -> None:
    """A channel a touch can carry: 1–64 bytes, not blank, no control characters."""
    name(key, value, MAX_CHANNEL_BYTES)


def template(key: str, value: Any) -> None:
    """A template a touch can carry: 1–128 bytes, not blank, no control characters."""
    name(key, value, MAX_LABEL_BYTES)


_BENEFIT_KINDS = {
    "coupon": BenefitKind.COUPON,
    "gift": BenefitKind.GIFT,
    "lottery": BenefitKind.LOTTERY,
    "points": BenefitKind.POINTS,
    "early_access": BenefitKind.EARLY_ACCESS,
}


def _round_half_away(x: float) -> int:
    """Rounds as Rust's `f64::round` does: half away from zero, exactly."""
    whole = math.floor(abs(x))
    if abs(x) - whole >= 0.5:
        whole += 1
    return int(math.copysign(whole, x))


@dataclass
class BenefitSpec:
    """A benefit as operators write it in config: `{"kind": "coupon", "value": 20}`
    with the value in yuan, and an optional named gift."""

    kind: str
    value: float = 0.0
    gift: Optional[str] = None

    @staticmethod
    def coupon(yuan: float) -> "BenefitSpec":
        return BenefitSpec("coupon", yuan)

    @staticmethod
    def gift_of(yuan: float, gift: str) -> "BenefitSpec":
        return BenefitSpec("gift", yuan, gift)

    @staticmethod
    def from_config(key: str, raw: Any) -> "BenefitSpec":
        """Reads the config value at `key`; an unknown kind or field is an error."""
        if not isinstance(raw, dict):
            raise ConfigError(f"{key}: must be an object like {{\"kind\": \"coupon\", \"value\": 20}}")
        unknown = sorted(set(raw) - {"kind", "value", "gift"})
        if unknown:
            raise ConfigError(f"{key}: unknown field `{unknown[0]}`, expected one of gift, kind, value")
        kind = raw.get("kind")
        if kind not in _BENEFIT_KINDS:
            raise ConfigError(f"{key}.kind: unknown benefit kind {json.dumps(kind)}, expected one of "
                              + ", ".join(_BENEFIT_KINDS))
        value = raw.get("value", 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}.value: must be a number of yuan")
        gift = raw.get("gift")
        if gift is not None and not isinstance(gift, str):
            raise ConfigError(f"{key}.gift: must be text")
        return BenefitSpec(kind, float(value), gift)

    def check(self, key: str) -> None:
        """Every kind needs a value from one fen to MAX_BENEFIT_YUAN (the host
        refuses a benefit worth nothing on each touch); a gift must name the
        gift; any gift name must be one the host passes on."""
        v = self.value
        # The ceiling before the rounding: 1e308 yuan in fen is no finite number.
        if not (math.isfinite(v) and v <= MAX_BENEFIT_YUAN and _round_half_away(v * 100.0) >= 1):
            raise ConfigError(f"{key}.value: must be from 0.01 to {MAX_BENEFIT_YUAN:.0f} yuan (is {_yuan(v)})")
        if self.gift is not None:
            name(f"{key}.gift", self.gift, MAX_LABEL_BYTES)
        elif self.kind == "gift":
            raise ConfigError(f'{key}.gift: a benefit of kind "gift" must name the gift; 1–{MAX_LABEL_BYTES} bytes')

    def benefit(self) -> Benefit:
        """The benefit as the WIT contract carries it (value in fen)."""
        return Benefit(kind=_BENEFIT_KINDS[self.kind], value=_round_half_away(self.value * 100.0), gift=self.gift)


def _yuan(v: float) -> str:
    """A yuan amount as Rust prints an f64: `-30`, `0.004`, `NaN`, `inf`."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    # The shortest round-trip digits, written out without an exponent.
    text = format(Decimal(repr(v)), "f")
    return text[:-2] if text.endswith(".0") else text


def benefit(spec: Any, key: str = "benefit") -> Benefit:
    """The WIT benefit of a config value like {"kind": "coupon", "value": 20.0}."""
    return BenefitSpec.from_config(key, spec).benefit()

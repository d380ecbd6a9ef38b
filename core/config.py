"""The experiment config: one type for the API, the URLs and the CLI.

`parse_config` validates a JSON object or a query string's fields against explicit bounds,
fills the dataset's defaults and raises ConfigError naming the field at fault.
`Config.to_query()` is the canonical query string; parsing it gives the same config back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any
from urllib.parse import parse_qsl

from core.datasets import MULTICLASS_SETS, TWO_D_SETS

DATASETS = ("mnist",) + TWO_D_SETS
INITS = ("xavier", "he")


class ConfigError(ValueError):
    """A config field is invalid; `field` names it and the message says what is allowed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Limits:
    """Bounds on what one run may ask for; they keep one run's CPU time bounded."""

    max_hidden_layers: int = 4
    max_units: int = 512
    max_epochs: int = 100  # MNIST: about 1 s an epoch for the tutorial net
    max_epochs_2d: int = 1000  # the 2D sets take milliseconds an epoch
    max_batch_size: int = 1024
    max_points: int = 5000
    max_classes: int = 6


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Config:
    dataset: str = "mnist"
    hidden: tuple[int, ...] = (100, 200)
    lr: float = 0.1
    batch_size: int = 32
    epochs: int = 25
    seed: int = 42
    init: str = "xavier"
    momentum: float = 0.0
    # 2D sets only
    noise: float = 0.1
    train_ratio: float = 0.7
    points: int = 600
    classes: int = 3

    @property
    def is_2d(self) -> bool:
        return self.dataset != "mnist"

    @property
    def class_count(self) -> int:
        if self.dataset == "mnist":
            return 10
        return self.classes if self.dataset in MULTICLASS_SETS else 2

    @property
    def layer_sizes(self) -> list[int]:
        """Units per layer, input first, known before any data is drawn: [784, 100, 200, 10] for the
        tutorial (tests/core checks that it matches the data train() draws)."""
        return [2 if self.is_2d else 784, *self.hidden, self.class_count]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with only the fields that apply to the dataset."""
        data = asdict(self)
        data["hidden"] = list(self.hidden)
        return {name: data[name] for name in _applicable(self.dataset)}

    def to_query(self) -> str:
        """The canonical query string: fixed order; optimizer options only when not default."""
        parts = []
        for name, value in self.to_dict().items():
            if name in ("init", "momentum") and value == getattr(Config(), name):
                continue
            parts.append(f"{name}={_format(value)}")
        return "&".join(parts)


def _applicable(dataset: str) -> list[str]:
    names = [f.name for f in fields(Config)]
    if dataset == "mnist":
        return names[: names.index("noise")]
    if dataset not in MULTICLASS_SETS:
        names.remove("classes")
    return names


def _format(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def defaults_for(dataset: str) -> Config:
    """Sensible starting points: the tutorial for MNIST, a quick small net for the 2D sets."""
    if dataset == "mnist":
        return Config()
    return Config(dataset=dataset, hidden=(16, 16), lr=0.3, batch_size=16, epochs=100)


def parse_query(query: str, limits: Limits = DEFAULT_LIMITS) -> Config:
    """Parse a query string such as `dataset=mnist&hidden=100,200&lr=0.1`."""
    pairs = parse_qsl(query.lstrip("?"), keep_blank_values=True)
    seen: dict[str, str] = {}
    for name, value in pairs:
        if name in seen:
            raise ConfigError(name, f"{name} is given more than once.")
        seen[name] = value
    return parse_config(seen, limits)


def parse_config(data: Mapping[str, Any], limits: Limits = DEFAULT_LIMITS) -> Config:
    """Validate user input (JSON values or query-string text) into a Config with defaults filled."""
    if not isinstance(data, Mapping):  # JSON null, a list, a string...: {} asks for all the defaults
        raise ConfigError("body", 'The config must be a JSON object, such as {"dataset": "spiral"}.')
    dataset = data.get("dataset", "mnist")
    if dataset not in DATASETS:
        raise ConfigError("dataset", f"dataset must be one of: {', '.join(DATASETS)}.")
    allowed = _applicable(dataset)
    for name in data:
        if name not in allowed and name != "dataset":
            known = name in {f.name for f in fields(Config)}
            why = f"does not apply to {dataset}" if known else "is not a config field"
            name = str(name)[:60]
            raise ConfigError(name, f"The field {name!r} {why}; the fields are: {', '.join(allowed)}.")
    base = defaults_for(dataset)
    if base.is_2d:
        limits = replace(limits, max_epochs=limits.max_epochs_2d)
    values: dict[str, Any] = {"dataset": dataset}
    for name in allowed[1:]:
        if name in data:
            values[name] = _CHECKS[name](name, data[name], limits)
    return replace(base, **values)


# --- field checks: each takes (name, raw value, limits) and returns the clean value -------------


def _number(name: str, raw: Any) -> float:
    if isinstance(raw, bool):
        raise ConfigError(name, f"{name} must be a number, not true/false.")
    if isinstance(raw, str):
        try:
            raw = float(raw.strip())
        except ValueError:
            raise ConfigError(name, f"{name} must be a number, got {raw[:40]!r}.") from None
    if not isinstance(raw, (int, float)):
        raise ConfigError(name, f"{name} must be a number.")
    if isinstance(raw, int) and abs(raw) > 2**53:  # too big for a float, and for any field here
        raise ConfigError(name, f"{name} is far too large.")
    if not math.isfinite(raw):
        raise ConfigError(name, f"{name} must be a finite number.")
    return float(raw)


def _integer(name: str, raw: Any, low: int, high: int) -> int:
    value = _number(name, raw)
    if value != int(value):
        raise ConfigError(name, f"{name} must be a whole number.")
    if not low <= value <= high:
        raise ConfigError(name, f"{name} must be between {low} and {high}.")
    return int(value)


def _real(name: str, raw: Any, low: float, high: float) -> float:
    value = _number(name, raw)
    if not low <= value <= high:
        raise ConfigError(name, f"{name} must be between {_format(low)} and {_format(high)}.")
    return value


def _hidden(name: str, raw: Any, limits: Limits) -> tuple[int, ...]:
    if isinstance(raw, str):
        raw = [part for part in raw.split(",")] if raw.strip() else []
    if not isinstance(raw, (list, tuple)):
        raise ConfigError(name, 'hidden must be a list of layer sizes, like [100, 200] or "100,200".')
    if not 1 <= len(raw) <= limits.max_hidden_layers:
        raise ConfigError(name, f"hidden must have 1 to {limits.max_hidden_layers} layers.")
    try:
        return tuple(_integer(name, size, 1, limits.max_units) for size in raw)
    except ConfigError:
        message = f"each hidden layer size must be a whole number from 1 to {limits.max_units}."
        raise ConfigError(name, message) from None


def _choice(options: tuple[str, ...]):
    def check(name: str, raw: Any, limits: Limits) -> str:
        if raw not in options:
            raise ConfigError(name, f"{name} must be one of: {', '.join(options)}.")
        return raw

    return check


_CHECKS = {
    "hidden": _hidden,
    "lr": lambda n, v, lim: _real(n, v, 0.0001, 3.0),
    "batch_size": lambda n, v, lim: _integer(n, v, 1, lim.max_batch_size),
    "epochs": lambda n, v, lim: _integer(n, v, 1, lim.max_epochs),
    "seed": lambda n, v, lim: _integer(n, v, 0, 2**32 - 1),
    "init": _choice(INITS),
    "momentum": lambda n, v, lim: _real(n, v, 0.0, 0.99),
    "noise": lambda n, v, lim: _real(n, v, 0.0, 1.0),
    "train_ratio": lambda n, v, lim: _real(n, v, 0.1, 0.9),
    "points": lambda n, v, lim: _integer(n, v, 50, lim.max_points),
    "classes": lambda n, v, lim: _integer(n, v, 2, lim.max_classes),
}

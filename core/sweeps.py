"""A sweep: a grid of runs that vary one or two settings of a base config, described by one table.

`AXES` lists every setting a sweep may vary, once: its name (in `vary` and in the sweep query), the config
field it sets, and how (`part`): the field itself, every hidden layer's width, or the number of hidden
layers. Each axis's values are checked by a Field derived from the config's own row (core.config.FIELDS),
so its bounds, kind and datasets come from that table. Everything else is derived from AXES:
`parse_vary` (validation, FieldError naming `vary.<axis>`), the canonical sweep query
(`Sweep.to_query()`: `lr:0.01,0.1,1;hidden:8,16,32`, axes in table order, values sorted, so parsing it
gives the same sweep back), the cells (`Sweep.cells()`: one Config per grid point, the first axis
fastest) and the OpenAPI schema (server/openapi.py reads `axis_field`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from core.config import (
    DEFAULT_LIMITS,
    FIELD_BY_NAME,
    Config,
    Field,
    FieldError,
    Limits,
    check,
)

MAX_AXES = 2
MAX_VALUES = 5
PARTS = ("value", "width", "depth")  # the field itself; every hidden layer's size; how many hidden layers


@dataclass(frozen=True)
class Axis:
    """One setting a sweep may vary: a row of AXES."""

    name: str
    label: str
    field: str  # the config field it sets
    part: str = "value"  # one of PARTS
    log: bool = False  # its values are spread on a log scale (the page draws them so)


# fmt: off
AXES: tuple[Axis, ...] = (
    Axis("lr", "Learning rate", "lr", log=True),
    Axis("hidden", "Hidden width", "hidden", part="width"),
    Axis("layers", "Hidden layers", "hidden", part="depth"),
    Axis("batch_size", "Batch size", "batch_size", log=True),
    Axis("l2", "L2 regularization", "l2"),
    Axis("activation", "Activation", "activation"),
)
# fmt: on
AXIS_BY_NAME = {axis.name: axis for axis in AXES}


def axis_field(axis: Axis) -> Field:
    """The Field that checks one value of an axis, derived from the config field's row: the field itself;
    for the width of the hidden layers, one layer's size; for their number, 1 to the layer limit."""
    field = FIELD_BY_NAME[axis.field]
    if axis.part == "width":
        return replace(field, name=axis.name, kind="int", max_items=None)
    if axis.part == "depth":
        return replace(field, name=axis.name, kind="int", low=1, high=field.max_items, max_items=None)
    return field


def _sort_key(axis: Axis) -> Any:
    field = axis_field(axis)
    if field.kind == "choice":
        order = [value for value, _ in field.choices]
        return order.index
    return float


@dataclass(frozen=True)
class Sweep:
    """A base config and, per axis (in AXES order), its values (sorted: numbers ascending, choices in the
    field's order)."""

    base: Config
    vary: tuple[tuple[str, tuple[Any, ...]], ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(values) for _, values in self.vary)

    def cell_values(self) -> list[dict[str, Any]]:
        return cell_values(self.vary)

    def cells(self) -> list[Config]:
        """The config of each cell, in cell_values() order."""
        return [apply(self.base, values) for values in self.cell_values()]

    def vary_dict(self) -> dict[str, list[Any]]:
        return {name: list(values) for name, values in self.vary}

    def to_query(self) -> str:
        """The canonical sweep query value: `lr:0.01,0.1;hidden:8,16`."""
        return ";".join(
            f"{name}:{','.join(_format(value) for value in values)}" for name, values in self.vary
        )


def cell_values(vary: Sequence[tuple[str, Sequence[Any]]]) -> list[dict[str, Any]]:
    """Each cell's values, {axis: value}, the first axis varying fastest (row-major over a grid whose
    columns are the first axis and rows the second)."""
    names = [name for name, _ in vary]
    grids = [values for _, values in reversed(vary)]
    return [dict(zip(names, reversed(point), strict=True)) for point in itertools.product(*grids)]


def apply(base: Config, values: Mapping[str, Any]) -> Config:
    """The base config with the axes' values set (the width and the number of hidden layers combine:
    width 8 and 3 layers is (8, 8, 8))."""
    changes: dict[str, Any] = {}
    if "hidden" in values:
        changes["hidden"] = (values["hidden"],) * values.get("layers", len(base.hidden))
    elif "layers" in values:
        changes["hidden"] = _with_depth(base.hidden, values["layers"])
    for name, value in values.items():
        axis = AXIS_BY_NAME[name]
        if axis.part == "value":
            changes[axis.field] = value
    return replace(base, **changes)


def _with_depth(hidden: tuple[int, ...], depth: int) -> tuple[int, ...]:
    """`depth` hidden layers: the base's first ones, the last size repeated if it needs more."""
    return tuple(hidden[min(i, len(hidden) - 1)] for i in range(depth))


def _format(value: Any) -> str:
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def parse_vary(raw: Any, base: Config, limits: Limits = DEFAULT_LIMITS) -> Sweep:
    """Validate `vary` ({axis: [values]}, JSON, or lists of query-string text) against the base config's
    dataset: 1 to MAX_AXES axes of AXES, each with 1 to MAX_VALUES distinct values within the field's
    bounds. FieldError names `vary` or `vary.<axis>`."""
    names = ", ".join(axis.name for axis in AXES)
    if not isinstance(raw, Mapping) or not raw:
        raise FieldError(
            "vary",
            f'vary must be an object of 1 or {MAX_AXES} settings to vary, such as {{"lr": [0.01, 0.1, 1]}}; '
            f"the settings are: {names}.",
        )
    if len(raw) > MAX_AXES:
        raise FieldError("vary", f"A sweep varies at most {MAX_AXES} settings; vary lists {len(raw)}.")
    vary = []
    for name in raw:
        axis = AXIS_BY_NAME.get(name) if isinstance(name, str) else None
        if axis is None:
            shown = str(name)[:40]
            raise FieldError(
                f"vary.{shown}", f"vary.{shown} is not a setting a sweep can vary; they are: {names}."
            )
        field = axis_field(axis)
        where = f"vary.{name}"
        if base.dataset not in field.datasets:
            raise FieldError(
                where, f"{axis.label} ({name}) does not apply to {base.dataset}, so a sweep cannot vary it."
            )
        values = raw[name]
        if not isinstance(values, (list, tuple)) or not 1 <= len(values) <= MAX_VALUES:
            raise FieldError(where, f"{where} must be a list of 1 to {MAX_VALUES} values.")
        clean = []
        for value in values:
            try:
                clean.append(check(field, value, base.dataset, limits))
            except FieldError as error:
                raise FieldError(
                    where, f"In {where}, {error.message[0].lower()}{error.message[1:]}"
                ) from None
        for value in clean:
            if clean.count(value) > 1:
                raise FieldError(where, f"{where} lists {_format(value)} more than once.")
        vary.append((axis, tuple(sorted(clean, key=_sort_key(axis)))))
    vary.sort(key=lambda pair: AXES.index(pair[0]))
    return Sweep(base, tuple((axis.name, values) for axis, values in vary))


def parse_sweep_query(text: str, base: Config, limits: Limits = DEFAULT_LIMITS) -> Sweep:
    """Parse a sweep query value such as `lr:0.01,0.1,1;hidden:8,16,32` (what Sweep.to_query writes)."""
    raw: dict[str, list[str]] = {}
    for part in text.split(";"):
        name, colon, values = part.partition(":")
        name = name.strip()
        if not colon or not name:
            shown = part[:40]
            raise FieldError(
                "sweep",
                f"Each part of sweep is a setting and its values, such as lr:0.01,0.1,1; got {shown!r}.",
            )
        if name in raw:
            raise FieldError("sweep", f"sweep gives {name[:40]} more than once.")
        raw[name] = [value.strip() for value in values.split(",")] if values.strip() else []
    return parse_vary(raw, base, limits)


def axes_json(limits: Limits) -> list[dict[str, Any]]:
    """The axis table for the page: each axis with its label, kind, log scale, choices and, per dataset,
    its bounds for these limits."""
    rows = []
    for axis in AXES:
        field = axis_field(axis)
        row: dict[str, Any] = {"name": axis.name, "label": axis.label, "kind": field.kind, "log": axis.log}
        if field.choices:
            row["choices"] = [value for value, _ in field.choices]
        else:
            row["bounds"] = {dataset: list(field.bounds(dataset, limits)) for dataset in field.datasets}
        rows.append(row)
    return rows

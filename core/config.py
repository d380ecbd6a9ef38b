"""The experiment config: one type for the API, the URLs and the CLI, described by one table.

`FIELDS` lists every config field once, in canonical order: its type, bounds, the datasets it applies
to, its defaults, its label and help text and the control the page draws for it. Everything else is
derived from that table: the `Config` type, `parse_config` (validation, raising FieldError naming the
field at fault), `Config.to_dict()`, the canonical query string `Config.to_query()` (parsing it gives the
same config back), `defaults_for`, the OpenAPI schema (server/openapi.py) and `fields_json`, the table
as JSON with the bounds resolved for the server's `Limits`, which the page reads to draw and check its
controls.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl

from core.custom_data import HASH_LENGTH, HASH_PATTERN, CustomData, is_hash
from core.datasets import CUSTOM, GENERATED_SETS, MULTICLASS_SETS, TWO_D_SETS
from core.features import DEFAULT_FEATURES, FEATURES
from core.layers import ACTIVATIONS

DATASETS = ("mnist",) + TWO_D_SETS
DATASET_LABELS = {"mnist": "MNIST", CUSTOM: "Your data"}  # the others: their name, capitalised

#: How a config finds your own points by the hash in its `data` field (the server: in its store);
#: None when no points have that hash.
FindData = Callable[[str], CustomData | None]


class FieldError(ValueError):
    """A field of the user's input is wrong; `field` names it and `message` says what is allowed."""

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

Bound = int | float | str  # a number, or the name of a Limits attribute

# What a field holds: "choice" (one of `choices`), "int", "float" (within low..high), "int_list" (1 to
# max_items whole numbers, each within low..high; a JSON list or text such as "100,200"), "choice_list"
# (one or more of `choices`, each once; a JSON list or text such as "x1,x2"; kept in the choices' order),
# "hash" (the hash of stored points, HASH_PATTERN; its value in a Config is those points, a CustomData).
KINDS = ("choice", "int", "float", "int_list", "choice_list", "hash")
NUMERIC_KINDS = ("int", "float", "int_list")  # the kinds with bounds and a step
# How the page draws a field (templates/_controls.html): "tiles" (a radio tile per choice, with a
# preview), "layers" (a list of numbers with Add/Remove), "log_slider" (text with a slider over `scale`),
# "number", "number_shuffle" (number with a Shuffle button), "range" (a slider showing its value),
# "select", "toggles" (a checkbox per choice, each with a picture), "data" (your points: the summary, CSV
# upload, and the plane to click on, static/js/data_editor.js). "number" and "select" controls are
# drawn half width.
CONTROLS = ("tiles", "layers", "log_slider", "number", "number_shuffle", "range", "select", "toggles", "data")


@dataclass(frozen=True)
class Field:
    """One config field: a row of FIELDS."""

    name: str
    kind: str
    label: str
    help: str  # one line
    control: str
    datasets: tuple[str, ...]  # the datasets it applies to; any other refuses it
    default: Any  # MNIST's default, and the 2D sets' unless default_2d is given
    default_2d: Any = None
    low: Bound | None = None  # inclusive bounds (of each item, for an int_list)
    high: Bound | None = None
    high_2d: Bound | None = None  # the 2D sets' upper bound when it differs
    max_items: Bound | None = None  # int_list only
    choices: tuple[tuple[str, str], ...] = ()  # choice and choice_list: (value, label) pairs
    scale: tuple[float, ...] = ()  # log_slider only: the slider's stops
    step: float = 1  # the page's step for numbers and sliders
    advanced: bool = False  # under "More options"; in the canonical query only when not default
    optional: bool = False  # in the canonical query only when not default (as advanced fields are)
    required: bool = False  # no default: a config of a dataset it applies to must give it

    @property
    def omitted_when_default(self) -> bool:
        """Left out of the canonical query at its default: fields added after the first URLs were
        shared, so that those URLs keep meaning what they meant."""
        return self.advanced or self.optional

    def default_for(self, dataset: str) -> Any:
        if dataset in TWO_D_SETS and self.default_2d is not None:
            return self.default_2d
        return self.default

    def bounds(self, dataset: str, limits: Limits) -> tuple[float, float]:
        """(low, high) for this dataset, Limits attributes resolved."""
        high = self.high_2d if dataset in TWO_D_SETS and self.high_2d is not None else self.high
        return _resolve(self.low, limits), _resolve(high, limits)

    def item_count(self, limits: Limits) -> int:
        return _resolve(self.max_items, limits)

    @property
    def python_type(self) -> Any:
        types = {"choice": str, "int": int, "float": float, "int_list": tuple[int, ...], "hash": CustomData}
        return types.get(self.kind, tuple[str, ...])


def _resolve(bound: Bound | None, limits: Limits) -> Any:
    return getattr(limits, bound) if isinstance(bound, str) else bound


LR_CHOICES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)

# fmt: off
FIELDS: tuple[Field, ...] = (
    Field("dataset", "choice", "Dataset", "MNIST's handwritten digits, or a 2D set of points.", "tiles",
          DATASETS, default="mnist",
          choices=tuple((name, DATASET_LABELS.get(name, name.capitalize())) for name in DATASETS)),
    Field("data", "hash", "Your points", "The points you add on the plane or upload as a CSV file, named by "
          "the hash the server gives them.", "data", (CUSTOM,), default=None, required=True),
    Field("hidden", "int_list", "Hidden layers", "The number of units in each hidden layer.", "layers",
          DATASETS, default=(100, 200), default_2d=(16, 16), low=1, high="max_units",
          max_items="max_hidden_layers"),
    Field("lr", "float", "Learning rate", "How far each step of gradient descent moves the weights.",
          "log_slider", DATASETS, default=0.1, default_2d=0.3, low=0.0001, high=3.0, scale=LR_CHOICES),
    Field("batch_size", "int", "Batch size", "Training examples per step.", "number",
          DATASETS, default=32, default_2d=16, low=1, high="max_batch_size"),
    Field("epochs", "int", "Epochs", "Passes over the training set.", "number",
          DATASETS, default=25, default_2d=100, low=1, high="max_epochs", high_2d="max_epochs_2d"),
    Field("seed", "int", "Seed", "Draws the data, the first weights and the batch order: same seed, same "
          "numbers.", "number_shuffle", DATASETS, default=42, low=0, high=2**32 - 1),
    Field("init", "choice", "Initialisation", "How the first weights are drawn (He suits ReLU layers).",
          "select", DATASETS, default="xavier", choices=(("xavier", "Xavier"), ("he", "He")), advanced=True),
    Field("momentum", "float", "Momentum", "How much of the previous step each step keeps (0: plain SGD).",
          "number", DATASETS, default=0.0, low=0.0, high=0.99, step=0.05, advanced=True),
    Field("activation", "choice", "Activation", "The function each hidden unit applies to its sum.",
          "select", DATASETS, default="relu",
          choices=tuple((name, cls.label) for name, cls in ACTIVATIONS.items()), advanced=True),
    Field("l2", "float", "L2 regularization", "Adds l2/2 times the sum of the squared weights (not the "
          "biases) to the loss: pulls every weight towards 0 (0: none).", "number",
          DATASETS, default=0.0, low=0.0, high=1.0, step=0.001, advanced=True),
    Field("noise", "float", "Noise", "How far the points scatter from their shape.", "range",
          GENERATED_SETS, default=0.1, low=0.0, high=1.0, step=0.05),
    Field("train_ratio", "float", "Training ratio", "The share of the points trained on; the rest validate.",
          "range", TWO_D_SETS, default=0.7, low=0.1, high=0.9, step=0.05),
    Field("points", "int", "Points", "How many points the set has.", "number",
          GENERATED_SETS, default=600, low=50, high="max_points", step=50),
    Field("classes", "int", "Classes", "How many classes: spiral arms or blobs.", "number",
          MULTICLASS_SETS, default=3, low=2, high="max_classes"),
    Field("features", "choice_list", "Features", "What the network reads of each point: the point itself "
          "(X₁, X₂) or values computed from it.", "toggles", TWO_D_SETS, default=DEFAULT_FEATURES,
          choices=tuple((name, label) for name, (label, _) in FEATURES.items()), optional=True),
)
# fmt: on
FIELD_BY_NAME = {field.name: field for field in FIELDS}


def _fields_of_table(cls: type) -> type:
    """Make cls a frozen dataclass with an attribute per row of FIELDS, defaulting to MNIST's value."""
    cls.__annotations__ = {field.name: field.python_type for field in FIELDS}
    for field in FIELDS:
        setattr(cls, field.name, field.default)
    return dataclass(frozen=True)(cls)


@_fields_of_table
class Config:
    """One experiment: an attribute per row of FIELDS; Config() is the tutorial's MNIST config."""

    @property
    def is_2d(self) -> bool:
        return self.dataset in TWO_D_SETS

    @property
    def class_count(self) -> int:
        if self.dataset == "mnist":
            return 10
        if self.dataset == CUSTOM:
            return self.data.classes
        return self.classes if self.dataset in MULTICLASS_SETS else 2

    @property
    def layer_sizes(self) -> list[int]:
        """Units per layer, input first, known before any data is drawn: [784, 100, 200, 10] for the
        tutorial (tests/core checks that it matches the data train() draws)."""
        return [len(self.features) if self.is_2d else 784, *self.hidden, self.class_count]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with only the fields that apply to the dataset, in canonical order."""
        return {field.name: _json_value(getattr(self, field.name)) for field in applicable(self.dataset)}

    def to_query(self) -> str:
        """The canonical query string: canonical order; advanced fields only when not default."""
        parts = []
        for field in applicable(self.dataset):
            value = getattr(self, field.name)
            if value is None:  # a required field not given (defaults_for): no config to share yet
                continue
            if field.omitted_when_default and value == field.default_for(self.dataset):
                continue
            parts.append(f"{field.name}={_format(value)}")
        return "&".join(parts)


def applicable(dataset: str) -> list[Field]:
    """The fields that apply to a dataset, in canonical order."""
    return [field for field in FIELDS if dataset in field.datasets]


def _json_value(value: Any) -> Any:
    if isinstance(value, CustomData):
        return value.hash
    return list(value) if isinstance(value, tuple) else value


def _format(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def defaults_for(dataset: str) -> Config:
    """Sensible starting points: the tutorial for MNIST, a quick small net for the 2D sets."""
    values = {field.name: field.default_for(dataset) for field in FIELDS}
    return Config(**values | {"dataset": dataset})


def parse_query(
    query: str, limits: Limits = DEFAULT_LIMITS, find_data: FindData | None = None, partial: bool = False
) -> Config:
    """Parse a query string such as `dataset=mnist&hidden=100,200&lr=0.1`."""
    pairs = parse_qsl(query.lstrip("?"), keep_blank_values=True)
    seen: dict[str, str] = {}
    for name, value in pairs:
        if name in seen:
            raise FieldError(name, f"{name} is given more than once.")
        seen[name] = value
    return parse_config(seen, limits, find_data, partial)


def parse_config(
    data: Mapping[str, Any],
    limits: Limits = DEFAULT_LIMITS,
    find_data: FindData | None = None,
    partial: bool = False,
) -> Config:
    """Validate user input (JSON values or query-string text) into a Config with defaults filled.
    find_data looks up the points a `data` hash names (without it, no hash is known). partial: a
    required field left out stays None (the page shows such settings; they cannot train)."""
    if not isinstance(data, Mapping):  # JSON null, a list, a string...: {} asks for all the defaults
        raise FieldError("body", 'The config must be a JSON object, such as {"dataset": "spiral"}.')
    dataset_field = FIELD_BY_NAME["dataset"]
    dataset = check(dataset_field, data.get("dataset", dataset_field.default), dataset_field.default, limits)
    fields = applicable(dataset)
    names = [field.name for field in fields]
    for name in data:
        if name not in names:
            why = f"does not apply to {dataset}" if name in FIELD_BY_NAME else "is not a config field"
            name = str(name)[:60]
            raise FieldError(name, f"The field {name!r} {why}; the fields are: {', '.join(names)}.")
    for field in fields:
        if field.required and field.name not in data and not partial:
            raise FieldError(field.name, f"The {dataset} dataset needs {field.name}: {_needs(field)}")
    values = {
        field.name: check(field, data[field.name], dataset, limits, find_data)
        for field in fields
        if field.name in data
    }
    return replace(defaults_for(dataset), **values)


def _needs(field: Field) -> str:
    return field.help[0].lower() + field.help[1:]


def check(
    field: Field, raw: Any, dataset: str, limits: Limits = DEFAULT_LIMITS, find_data: FindData | None = None
) -> Any:
    """One field's raw value (JSON or query-string text) -> its clean value, or FieldError."""
    name = field.name
    if field.kind == "hash":
        return _stored_data(name, raw, find_data)
    if field.kind == "choice":
        options = [value for value, _ in field.choices]
        if raw not in options:
            raise FieldError(name, f"{name} must be one of: {', '.join(options)}.")
        return raw
    if field.kind == "choice_list":
        return _choice_list(name, raw, [value for value, _ in field.choices])
    low, high = field.bounds(dataset, limits)
    if field.kind == "int":
        return _integer(name, raw, low, high)
    if field.kind == "float":
        return _real(name, raw, low, high)
    return _integer_list(name, raw, low, high, field.item_count(limits))


def _number(name: str, raw: Any) -> float:
    if isinstance(raw, bool):
        raise FieldError(name, f"{name} must be a number, not true/false.")
    if isinstance(raw, str):
        try:
            raw = float(raw.strip())
        except ValueError:
            raise FieldError(name, f"{name} must be a number, got {raw[:40]!r}.") from None
    if not isinstance(raw, (int, float)):
        raise FieldError(name, f"{name} must be a number.")
    if isinstance(raw, int) and abs(raw) > 2**53:  # too big for a float, and for any field here
        raise FieldError(name, f"{name} is far too large.")
    if not math.isfinite(raw):
        raise FieldError(name, f"{name} must be a finite number.")
    return float(raw)


def _integer(name: str, raw: Any, low: int, high: int) -> int:
    value = _number(name, raw)
    if value != int(value):
        raise FieldError(name, f"{name} must be a whole number.")
    if not low <= value <= high:
        raise FieldError(name, f"{name} must be between {low} and {high}.")
    return int(value)


def _real(name: str, raw: Any, low: float, high: float) -> float:
    value = _number(name, raw)
    if not low <= value <= high:
        raise FieldError(name, f"{name} must be between {_format(low)} and {_format(high)}.")
    return value


def _integer_list(name: str, raw: Any, low: int, high: int, max_items: int) -> tuple[int, ...]:
    if isinstance(raw, str):
        raw = raw.split(",") if raw.strip() else []
    if not isinstance(raw, (list, tuple)):
        raise FieldError(name, f'{name} must be a list of layer sizes, like [100, 200] or "100,200".')
    if not 1 <= len(raw) <= max_items:
        raise FieldError(name, f"{name} must have 1 to {max_items} layers.")
    try:
        return tuple(_integer(name, size, low, high) for size in raw)
    except FieldError:
        message = f"each {name} layer size must be a whole number from {low} to {high}."
        raise FieldError(name, message) from None


def _stored_data(name: str, raw: Any, find_data: FindData | None) -> CustomData:
    if isinstance(raw, str):
        raw = raw.strip()
    if not is_hash(raw):
        message = f"{name} must be the hash of stored points: {HASH_LENGTH} hex digits (0-9, a-f)."
        raise FieldError(name, message)
    found = find_data(raw) if find_data is not None else None
    if found is None:
        raise FieldError(name, f"No stored points have the hash {raw}: upload the points first.")
    return found


def _choice_list(name: str, raw: Any, options: list[str]) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = raw.split(",") if raw.strip() else []
    allowed = ", ".join(options)
    if not isinstance(raw, (list, tuple)) or not all(isinstance(item, str) for item in raw):
        raise FieldError(name, f'{name} must be a list chosen from {allowed}, like ["x1", "x2"] or "x1,x2".')
    chosen = [item.strip() for item in raw]
    if not chosen:
        raise FieldError(name, f"Choose at least one of {name}: {allowed}.")
    for item in chosen:
        if item not in options:
            raise FieldError(name, f"{name} must be chosen from {allowed}; {item[:20]!r} is not one of them.")
        if chosen.count(item) > 1:
            raise FieldError(name, f"{name} lists {item} more than once.")
    return tuple(option for option in options if option in chosen)


def fields_json(limits: Limits) -> list[dict[str, Any]]:
    """The table for the page (GET /api/datasets "fields"): each field with, per dataset it applies to,
    its default and its bounds for these limits."""
    rows = []
    for field in FIELDS:
        row: dict[str, Any] = {
            "name": field.name,
            "kind": field.kind,
            "label": field.label,
            "help": field.help,
            "control": field.control,
            "advanced": field.advanced,
            "optional": field.omitted_when_default,
            "required": field.required,
        }
        if field.kind == "hash":
            row["pattern"] = HASH_PATTERN
        if field.kind in NUMERIC_KINDS:
            row["step"] = field.step
        if field.choices:
            row["choices"] = [{"value": value, "label": label} for value, label in field.choices]
        if field.scale:
            row["scale"] = list(field.scale)
        if field.max_items is not None:
            row["max_items"] = field.item_count(limits)
        per_dataset = {}
        for dataset in field.datasets:
            entry = {"default": _json_value(getattr(defaults_for(dataset), field.name))}
            if field.kind in NUMERIC_KINDS:
                entry["low"], entry["high"] = field.bounds(dataset, limits)
            per_dataset[dataset] = entry
        row["datasets"] = per_dataset
        rows.append(row)
    return rows

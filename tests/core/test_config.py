"""The config: defaults, the canonical query string round trip, every validation error, and the field
table: a field added to it reaches validation, the query string, the defaults and the page's JSON."""

import dataclasses
import json
from dataclasses import replace

import pytest

from core.config import (
    CONTROLS,
    DATASETS,
    DEFAULT_LIMITS,
    FIELD_BY_NAME,
    FIELDS,
    KINDS,
    LR_CHOICES,
    NUMERIC_KINDS,
    Config,
    FieldError,
    Limits,
    defaults_for,
    fields_json,
    parse_config,
    parse_query,
)
from core.datasets import dataset_for
from tests.custom_points import FIND, OTHER_POINTS, POINTS, config_of, default_config, raw

TUTORIAL_QUERY = "dataset=mnist&hidden=100,200&lr=0.1&batch_size=32&epochs=25&seed=42"


def test_tutorial_defaults_and_canonical_query():
    config = parse_config({})
    assert config == Config()
    assert config.hidden == (100, 200) and config.lr == 0.1 and config.batch_size == 32
    assert config.epochs == 25 and config.seed == 42
    assert config.to_query() == TUTORIAL_QUERY


@pytest.mark.parametrize("dataset", DATASETS)
def test_query_round_trip_for_every_dataset(dataset):
    config = default_config(dataset)
    assert parse_query(config.to_query(), find_data=FIND) == config
    assert parse_config(config.to_dict(), find_data=FIND) == config


@pytest.mark.parametrize(
    "query",
    [
        "dataset=spiral&hidden=8&lr=0.03&batch_size=10&epochs=200&seed=7&noise=0.25&train_ratio=0.5"
        "&points=1000&classes=5",
        "dataset=mnist&hidden=16,32,64,128&lr=0.0001&batch_size=1024&epochs=1&seed=0&init=he&momentum=0.9",
        "dataset=moons&hidden=3,3&lr=3&batch_size=1&epochs=1000&seed=4294967295&noise=0&train_ratio=0.9&points=50",
        "dataset=xor&hidden=4&lr=0.1&batch_size=8&epochs=5&seed=1&activation=sigmoid&l2=0.5&noise=0"
        "&train_ratio=0.5&points=100&features=x1,x1^2,x1x2,sin_x2",
        "dataset=mnist&hidden=10&lr=0.1&batch_size=32&epochs=1&seed=42&activation=linear&l2=1",
    ],
)
def test_canonical_queries_parse_back_to_themselves(query):
    config = parse_query(query)
    assert config.to_query() == query
    assert parse_query(config.to_query()) == config


def test_query_order_does_not_matter_and_output_is_canonical():
    scrambled = "seed=42&epochs=25&batch_size=32&lr=0.1&hidden=100,200&dataset=mnist"
    assert parse_query(scrambled).to_query() == TUTORIAL_QUERY
    assert parse_query("?" + TUTORIAL_QUERY).to_query() == TUTORIAL_QUERY


def test_json_values_and_query_text_give_the_same_config():
    from_json = parse_config({"dataset": "xor", "hidden": [4, 4], "lr": 0.5, "epochs": 10})
    from_text = parse_config({"dataset": "xor", "hidden": "4,4", "lr": "0.5", "epochs": "10"})
    assert from_json == from_text


@pytest.mark.parametrize("dataset", DATASETS)
def test_layer_sizes_match_the_data_train_draws(dataset):
    config = config_of(dataset, hidden=[7, 5])
    data = dataset_for(config)
    assert config.layer_sizes == [data.input_dim, 7, 5, len(data.classes)]
    assert config.class_count == len(data.classes)


def test_2d_defaults_differ_from_mnist():
    spiral = defaults_for("spiral")
    assert spiral.is_2d and not Config().is_2d
    assert "noise" in spiral.to_dict() and "noise" not in Config().to_dict()
    assert "classes" not in defaults_for("moons").to_dict()


def error_field(data, limits=None):
    with pytest.raises(FieldError) as caught:
        parse_config(data, limits or Limits())
    assert caught.value.message and caught.value.message[0].isalpha()
    return caught.value.field


@pytest.mark.parametrize(
    "data, field",
    [
        ({"dataset": "cifar"}, "dataset"),
        ({"dataset": 3}, "dataset"),
        ({"hidden": []}, "hidden"),
        ({"hidden": ""}, "hidden"),
        ({"hidden": [1, 2, 3, 4, 5]}, "hidden"),
        ({"hidden": [0]}, "hidden"),
        ({"hidden": [-5]}, "hidden"),
        ({"hidden": [513]}, "hidden"),
        ({"hidden": [1.5]}, "hidden"),
        ({"hidden": "a,b"}, "hidden"),
        ({"hidden": 100}, "hidden"),
        ({"hidden": [True]}, "hidden"),
        ({"lr": 0}, "lr"),
        ({"lr": -0.1}, "lr"),
        ({"lr": 3.5}, "lr"),
        ({"lr": "fast"}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"lr": float("inf")}, "lr"),
        ({"lr": "Infinity"}, "lr"),
        ({"lr": None}, "lr"),
        ({"lr": [0.1]}, "lr"),
        ({"lr": True}, "lr"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 1025}, "batch_size"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"epochs": 0}, "epochs"),
        ({"epochs": 101}, "epochs"),
        ({"epochs": 10**30}, "epochs"),
        ({"epochs": 10**400}, "epochs"),  # too big to turn into a float
        ({"hidden": [10**400]}, "hidden"),
        ({"seed": -(10**400)}, "seed"),
        ({"dataset": "spiral", "epochs": 1001}, "epochs"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**32}, "seed"),
        ({"init": "zeros"}, "init"),
        ({"momentum": 1.0}, "momentum"),
        ({"momentum": -0.5}, "momentum"),
        ({"dataset": "spiral", "noise": 2}, "noise"),
        ({"dataset": "spiral", "train_ratio": 0.95}, "train_ratio"),
        ({"dataset": "spiral", "points": 10}, "points"),
        ({"dataset": "spiral", "points": 5001}, "points"),
        ({"dataset": "spiral", "classes": 1}, "classes"),
        ({"dataset": "spiral", "classes": 7}, "classes"),
        ({"noise": 0.1}, "noise"),  # a 2D option on MNIST
        ({"dataset": "moons", "classes": 3}, "classes"),  # moons always has two classes
        ({"colour": "red"}, "colour"),
    ],
)
def test_every_validation_error_names_its_field(data, field):
    assert error_field(data) == field


@pytest.mark.parametrize("body", [[1, 2], None, "spiral", 3])
def test_body_must_be_an_object(body):
    assert error_field(body) == "body"


def test_duplicate_query_fields_are_rejected():
    with pytest.raises(FieldError) as caught:
        parse_query("lr=0.1&lr=0.2")
    assert caught.value.field == "lr"


def test_limits_can_be_tightened():
    tight = Limits(max_units=64, max_epochs=5)
    assert error_field({"hidden": [100]}, tight) == "hidden"
    assert error_field({"epochs": 6}, tight) == "epochs"
    assert parse_config({"hidden": [64], "epochs": 5}, tight).epochs == 5
    with pytest.raises(FieldError):
        parse_query("hidden=100", tight)


# --- the field table: every field reaches validation, the query string, the defaults and the JSON --------


def field_cases(fields=FIELDS):
    return [
        pytest.param(field, dataset, id=f"{field.name}-{dataset}")
        for field in fields
        for dataset in field.datasets
    ]


def other_value(field, dataset, limits=DEFAULT_LIMITS):
    """A valid value that differs from the field's default for this dataset: the other end of its range."""
    default = field.default_for(dataset)
    if field.kind == "hash":
        return OTHER_POINTS
    if field.kind == "choice":
        return next(value for value, _ in field.choices if value != default)
    if field.kind == "choice_list":  # every choice, or the first alone when every choice is the default
        every = tuple(value for value, _ in field.choices)
        return every if default != every else every[:1]
    low, high = field.bounds(dataset, limits)
    if field.kind == "int_list":
        return (high,) * field.item_count(limits)
    return high if default != high else low


def out_of_bounds(field, dataset, limits=DEFAULT_LIMITS):
    """A value just past the field's bounds for this dataset (the int_list: one item past)."""
    if field.kind == "hash":
        return POINTS.hash[:-1]
    if field.kind == "choice":
        return "not-" + field.choices[0][0]
    if field.kind == "choice_list":
        return [field.choices[0][0], "not-" + field.choices[0][0]]
    low, high = field.bounds(dataset, limits)
    beyond = high + 1 if field.kind == "int" or field.kind == "int_list" else high + 0.01
    return [beyond] if field.kind == "int_list" else beyond


def test_config_has_an_attribute_per_field_in_the_tables_order():
    assert [f.name for f in dataclasses.fields(Config)] == [field.name for field in FIELDS]
    assert len(FIELD_BY_NAME) == len(FIELDS)


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.name)
def test_every_field_is_described_completely(field):
    assert field.kind in KINDS and field.control in CONTROLS
    assert field.label and field.help and "\n" not in field.help and field.help.endswith((".", ")"))
    assert field.datasets and set(field.datasets) <= set(DATASETS)
    limit_names = {f.name for f in dataclasses.fields(Limits)}
    for bound in (field.low, field.high, field.high_2d, field.max_items):
        assert not isinstance(bound, str) or bound in limit_names, (
            f"{field.name}: {bound} is not a Limits field"
        )
    if field.kind == "hash":
        assert field.required and field.default is None and not field.choices and field.low is None
    elif field.kind not in NUMERIC_KINDS:
        assert field.choices and field.low is None and field.high is None
    else:
        assert not field.choices and field.low is not None and field.high is not None
    assert (field.kind == "int_list") == (field.max_items is not None)
    for stop in field.scale:
        assert field.bounds(field.datasets[0], DEFAULT_LIMITS)[0] <= stop <= field.high


@pytest.mark.parametrize("field, dataset", field_cases())
def test_every_field_has_a_valid_default_for_each_dataset_it_applies_to(field, dataset):
    config = defaults_for(dataset)
    default = field.default_for(dataset) if field.name != "dataset" else dataset
    assert getattr(config, field.name) == default
    assert field.name in config.to_dict()
    if field.required:  # no default: a config must give it
        assert default is None
        return
    value = config.to_dict()[field.name]
    assert parse_config(raw(dataset, **{field.name: value}), find_data=FIND) == default_config(dataset)


def test_a_required_field_left_out_is_refused_naming_it():
    with pytest.raises(FieldError) as caught:
        parse_config({"dataset": "custom", "hidden": [4]})
    assert caught.value.field == "data" and "The custom dataset needs data" in caught.value.message


@pytest.mark.parametrize("field, dataset", field_cases(FIELDS[1:]))  # the dataset: the tests above
def test_every_field_round_trips_through_the_query_string_and_json(field, dataset):
    config = replace(default_config(dataset), **{field.name: other_value(field, dataset)})
    assert f"{field.name}=" in config.to_query()
    assert parse_query(config.to_query(), find_data=FIND) == config
    assert parse_config(config.to_dict(), find_data=FIND) == config


@pytest.mark.parametrize("field, dataset", field_cases())
def test_every_field_refuses_a_value_past_its_bounds_naming_them(field, dataset):
    with pytest.raises(FieldError) as caught:
        parse_config(raw(dataset, **{field.name: out_of_bounds(field, dataset)}), find_data=FIND)
    assert caught.value.field == field.name
    if field.kind in NUMERIC_KINDS:
        low, high = field.bounds(dataset, DEFAULT_LIMITS)
        assert str(high).removesuffix(".0") in caught.value.message


@pytest.mark.parametrize(
    "field", [f for f in FIELDS if set(f.datasets) != set(DATASETS)], ids=lambda f: f.name
)
def test_a_field_is_refused_for_a_dataset_it_does_not_apply_to(field):
    dataset = next(name for name in DATASETS if name not in field.datasets)
    with pytest.raises(FieldError) as caught:
        parse_config({"dataset": dataset, field.name: field.default})
    assert caught.value.field == field.name and "does not apply" in caught.value.message
    assert field.name not in defaults_for(dataset).to_dict()


@pytest.mark.parametrize("dataset", DATASETS)
def test_advanced_and_optional_fields_are_in_the_query_only_when_not_default(dataset):
    query = default_config(dataset).to_query()
    for field in FIELDS:
        assert (f"{field.name}=" in query) == (dataset in field.datasets and not field.omitted_when_default)
    assert all(field.omitted_when_default for field in FIELDS if field.advanced)


def test_the_fields_json_resolves_bounds_for_the_given_limits():
    limits = Limits(max_units=64, max_epochs=5, max_epochs_2d=7, max_hidden_layers=2, max_points=99)
    rows = {row["name"]: row for row in fields_json(limits)}
    assert list(rows) == [field.name for field in FIELDS]
    assert json.loads(json.dumps(rows)) == rows  # JSON-ready
    for field in FIELDS:
        row = rows[field.name]
        assert (row["kind"], row["label"], row["help"], row["control"]) == (
            field.kind,
            field.label,
            field.help,
            field.control,
        )
        assert list(row["datasets"]) == list(field.datasets)
        for dataset, spec in row["datasets"].items():
            assert spec["default"] == defaults_for(dataset).to_dict()[field.name]
            if field.kind in NUMERIC_KINDS:
                assert (spec["low"], spec["high"]) == field.bounds(dataset, limits)
            else:
                assert "low" not in spec and "high" not in spec
        assert row["optional"] == field.omitted_when_default
    assert (
        rows["epochs"]["datasets"]["mnist"]["high"] == 5 and rows["epochs"]["datasets"]["spiral"]["high"] == 7
    )
    assert rows["hidden"]["max_items"] == 2 and rows["hidden"]["datasets"]["xor"]["high"] == 64
    assert rows["lr"]["scale"] == list(LR_CHOICES)
    assert [c["value"] for c in rows["init"]["choices"]] == ["xavier", "he"]

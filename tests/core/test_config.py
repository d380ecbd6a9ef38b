"""The config: defaults, the canonical query string round trip, and every validation error."""

import pytest

from core.config import DATASETS, Config, ConfigError, Limits, defaults_for, parse_config, parse_query
from core.datasets import dataset_for

TUTORIAL_QUERY = "dataset=mnist&hidden=100,200&lr=0.1&batch_size=32&epochs=25&seed=42"


def test_tutorial_defaults_and_canonical_query():
    config = parse_config({})
    assert config == Config()
    assert config.hidden == (100, 200) and config.lr == 0.1 and config.batch_size == 32
    assert config.epochs == 25 and config.seed == 42
    assert config.to_query() == TUTORIAL_QUERY


@pytest.mark.parametrize("dataset", DATASETS)
def test_query_round_trip_for_every_dataset(dataset):
    config = defaults_for(dataset)
    assert parse_query(config.to_query()) == config
    assert parse_config(config.to_dict()) == config


@pytest.mark.parametrize(
    "query",
    [
        "dataset=spiral&hidden=8&lr=0.03&batch_size=10&epochs=200&seed=7&noise=0.25&train_ratio=0.5"
        "&points=1000&classes=5",
        "dataset=mnist&hidden=16,32,64,128&lr=0.0001&batch_size=1024&epochs=1&seed=0&init=he&momentum=0.9",
        "dataset=moons&hidden=3,3&lr=3&batch_size=1&epochs=1000&seed=4294967295&noise=0&train_ratio=0.9&points=50",
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
    config = parse_config({"dataset": dataset, "hidden": [7, 5]})
    data = dataset_for(config)
    assert config.layer_sizes == [data.input_dim, 7, 5, len(data.classes)]
    assert config.class_count == len(data.classes)


def test_2d_defaults_differ_from_mnist():
    spiral = defaults_for("spiral")
    assert spiral.is_2d and not Config().is_2d
    assert "noise" in spiral.to_dict() and "noise" not in Config().to_dict()
    assert "classes" not in defaults_for("moons").to_dict()


def error_field(data, limits=None):
    with pytest.raises(ConfigError) as caught:
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
    with pytest.raises(ConfigError) as caught:
        parse_query("lr=0.1&lr=0.2")
    assert caught.value.field == "lr"


def test_limits_can_be_tightened():
    tight = Limits(max_units=64, max_epochs=5)
    assert error_field({"hidden": [100]}, tight) == "hidden"
    assert error_field({"epochs": 6}, tight) == "epochs"
    assert parse_config({"hidden": [64], "epochs": 5}, tight).epochs == 5
    with pytest.raises(ConfigError):
        parse_query("hidden=100", tight)

"""The OpenAPI Config schema is the field table: a property per field, in the table's order, with the
bounds the server enforces for its limits (GET /api/openapi.json, and config_schema for other limits)."""

from __future__ import annotations

import re

import pytest

from core.config import DEFAULT_LIMITS, FIELDS, FieldError, Limits, check
from server.openapi import config_schema

TIGHT = Limits(
    max_hidden_layers=2, max_units=64, max_epochs=5, max_epochs_2d=7, max_batch_size=9, max_points=99
)


def widest(field, limits):
    bounds = [field.bounds(dataset, limits) for dataset in field.datasets]
    return min(low for low, _ in bounds), max(high for _, high in bounds)


def test_the_served_config_schema_has_a_property_per_field_in_order(client):
    spec = client.get("/api/openapi.json").get_json()
    schema = spec["components"]["schemas"]["Config"]
    assert list(schema["properties"]) == [field.name for field in FIELDS]
    assert schema["additionalProperties"] is False
    assert schema == config_schema(DEFAULT_LIMITS)


@pytest.mark.parametrize("limits", [DEFAULT_LIMITS, TIGHT], ids=["default limits", "tight limits"])
@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.name)
def test_each_property_has_the_tables_type_and_bounds(field, limits):
    prop = config_schema(limits)["properties"][field.name]
    assert prop["description"].startswith(field.help)
    if field.kind == "choice":
        assert prop == {"type": "string", "enum": [v for v, _ in field.choices], "description": field.help}
        return
    if field.kind == "hash":  # the hash of stored points: its pattern is the server's check
        assert prop["type"] == "string" and re.fullmatch(prop["pattern"], "0123456789abcdef0123")
        for text in ("0123456789abcdef012", "0123456789ABCDEF0123", "0123456789abcdef01234"):
            assert not re.fullmatch(prop["pattern"], text)
            with pytest.raises(FieldError):
                check(field, text, field.datasets[0], limits, find_data=lambda _: None)
        return
    if field.kind == "choice_list":
        listed, text = prop["oneOf"]
        values = [v for v, _ in field.choices]
        assert listed["items"]["enum"] == values and (listed["minItems"], listed["maxItems"]) == (
            1,
            len(values),
        )
        assert listed["uniqueItems"] is True
        for dataset in field.datasets:  # every value the schema describes passes the server's check
            assert check(field, values, dataset, limits) == tuple(values)
            assert check(field, ",".join(reversed(values)), dataset, limits) == tuple(values)
        assert re.fullmatch(text["pattern"], ",".join(values)) and not re.fullmatch(text["pattern"], "x1,,x2")
        return
    low, high = widest(field, limits)
    if field.kind == "int_list":
        listed, text = prop["oneOf"]
        assert (listed["minItems"], listed["maxItems"]) == (1, field.item_count(limits))
        assert (listed["items"]["minimum"], listed["items"]["maximum"]) == (low, high)
        assert text["type"] == "string"
        return
    assert prop["type"] == ("integer" if field.kind == "int" else "number")
    assert (prop["minimum"], prop["maximum"]) == (low, high)
    for dataset in field.datasets:  # the schema's bounds are the server's: both ends pass its check
        for value in field.bounds(dataset, limits):
            assert check(field, value, dataset, limits) == value


def test_a_bound_that_differs_by_dataset_is_described():
    epochs = config_schema(TIGHT)["properties"]["epochs"]
    assert epochs["maximum"] == 7 and "At most 5 for MNIST, 7 for 2D sets." in epochs["description"]

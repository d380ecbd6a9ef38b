"""core/sweeps.py: the axis table derives each axis's bounds from the config's field table; vary is
validated naming `vary.<axis>`; the sweep query is canonical (parsing it gives the same sweep back); the
cells are the grid, first axis fastest, the hidden layers' width and number combining."""

from __future__ import annotations

import pytest

from core.config import DEFAULT_LIMITS, FIELD_BY_NAME, FieldError, Limits, defaults_for
from core.sweeps import (
    AXES,
    MAX_AXES,
    MAX_VALUES,
    apply,
    axes_json,
    axis_field,
    parse_sweep_query,
    parse_vary,
)

SPIRAL = defaults_for("spiral")


def refused(vary, field: str, base=SPIRAL, limits: Limits = DEFAULT_LIMITS) -> str:
    with pytest.raises(FieldError) as caught:
        parse_vary(vary, base, limits)
    assert caught.value.field == field, caught.value.message
    assert caught.value.message.endswith("."), caught.value.message
    return caught.value.message


def test_every_axis_takes_its_bounds_from_the_config_field_table():
    tight = Limits(max_hidden_layers=3, max_units=20, max_batch_size=50)
    bounds = {
        axis.name: axis_field(axis).bounds("spiral", tight) for axis in AXES if axis.name != "activation"
    }
    assert bounds == {
        "lr": FIELD_BY_NAME["lr"].bounds("spiral", tight),
        "hidden": (1, 20),
        "layers": (1, 3),
        "batch_size": (1, 50),
        "l2": FIELD_BY_NAME["l2"].bounds("spiral", tight),
    }
    assert axis_field(AXES[-1]).choices == FIELD_BY_NAME["activation"].choices
    assert "must be between 1 and 20" in refused({"hidden": [8, 21]}, "vary.hidden", limits=tight)
    assert "between 1 and 3" in refused({"layers": [4]}, "vary.layers", limits=tight)
    table = {row["name"]: row for row in axes_json(tight)}
    assert table["layers"]["bounds"]["mnist"] == [1, 3] and table["activation"]["choices"][0] == "relu"


def test_the_sweep_query_is_canonical_and_parses_back_to_the_same_sweep():
    sweep = parse_vary({"hidden": [32, 8, 16], "lr": [1, 0.01, 0.1]}, SPIRAL)
    assert sweep.to_query() == "lr:0.01,0.1,1;hidden:8,16,32"  # axes in table order, values sorted
    assert parse_sweep_query(sweep.to_query(), SPIRAL) == sweep
    assert parse_sweep_query("hidden:16,8,32;lr:0.1,1,0.01", SPIRAL) == sweep
    choices = parse_vary({"activation": ["tanh", "relu"], "batch_size": [64, 8]}, SPIRAL)
    assert choices.to_query() == "batch_size:8,64;activation:relu,tanh"
    assert parse_sweep_query(choices.to_query(), SPIRAL) == choices


def test_the_cells_are_the_grid_with_the_first_axis_fastest():
    sweep = parse_vary({"lr": [0.01, 0.1, 1], "hidden": [8, 16]}, SPIRAL)
    assert sweep.shape == (3, 2)
    assert [(c.lr, c.hidden) for c in sweep.cells()] == [
        (0.01, (8, 8)), (0.1, (8, 8)), (1.0, (8, 8)), (0.01, (16, 16)), (0.1, (16, 16)), (1.0, (16, 16)),
    ]  # fmt: skip
    assert all(cell.batch_size == SPIRAL.batch_size and cell.seed == SPIRAL.seed for cell in sweep.cells())


def test_the_width_and_the_number_of_hidden_layers_combine():
    base = defaults_for("mnist")  # hidden (100, 200)
    assert apply(base, {"hidden": 8}).hidden == (8, 8)
    assert apply(base, {"layers": 3}).hidden == (100, 200, 200)
    assert apply(base, {"layers": 1}).hidden == (100,)
    assert apply(base, {"hidden": 8, "layers": 3}).hidden == (8, 8, 8)
    sweep = parse_vary({"layers": [1, 2], "activation": ["tanh"]}, base)
    assert [c.hidden for c in sweep.cells()] == [(100,), (100, 200)]
    assert {c.activation for c in sweep.cells()} == {"tanh"}


def test_bad_vary_is_refused_naming_the_field():
    assert "at most 2 settings" in refused({"lr": [1], "l2": [0], "hidden": [4]}, "vary")
    assert f"1 to {MAX_VALUES} values" in refused({"lr": [0.01, 0.03, 0.1, 0.3, 1, 3]}, "vary.lr")
    assert f"1 to {MAX_VALUES} values" in refused({"lr": []}, "vary.lr")
    assert "more than once" in refused({"lr": [0.1, 0.1]}, "vary.lr")
    assert "between 0.0001 and 3" in refused({"lr": [5]}, "vary.lr")
    assert "not a setting a sweep can vary" in refused({"momentum": [0.5]}, "vary.momentum")
    assert "one of: relu" in refused({"activation": ["swish"]}, "vary.activation")
    assert "must be a number" in refused({"batch_size": ["big"]}, "vary.batch_size")
    assert "1 or 2 settings" in refused({}, "vary")
    assert "1 or 2 settings" in refused([["lr", [1]]], "vary")
    assert MAX_AXES == 2


def test_a_bad_sweep_query_is_refused_naming_the_part():
    with pytest.raises(FieldError) as caught:
        parse_sweep_query("lr=0.1", SPIRAL)
    assert caught.value.field == "sweep"
    with pytest.raises(FieldError) as caught:
        parse_sweep_query("lr:0.1;lr:1", SPIRAL)
    assert caught.value.field == "sweep" and "more than once" in caught.value.message
    with pytest.raises(FieldError) as caught:
        parse_sweep_query("lr:0.1,9", SPIRAL)
    assert caught.value.field == "vary.lr"

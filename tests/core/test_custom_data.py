"""Your own 2D data (core.custom_data): every bad row is named by its line and column, the canonical form
and its hash do not depend on the order or spelling of the rows, and a custom config's split follows the
Training ratio and the seed, with the validation points as its test set."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from core.config import FieldError, parse_query
from core.cost import example_counts
from core.custom_data import (
    MAX_COORDINATE,
    MIN_POINTS,
    CsvError,
    TooManyRows,
    from_canonical,
    parse_csv,
)
from core.datasets import dataset_for
from core.training import train
from tests.custom_points import POINTS, config_of, xor_csv

GOOD = "x,y,label\n" + "".join(f"{i / 10},{-i / 20},{i % 3}\n" for i in range(12))


def test_a_good_file_gives_its_points_classes_and_a_hash():
    data = parse_csv(GOOD)
    assert data.points == 12 and data.classes == 3
    assert data.x.dtype == np.float32 and data.x.shape == (12, 2) and data.y.dtype == np.int64
    assert len(data.hash) == 20 and int(data.hash, 16) >= 0
    with pytest.raises(ValueError):
        data.x[0, 0] = 5  # read-only: shared by every run of these points


def test_the_header_is_optional_and_blank_lines_carriage_returns_quotes_and_a_bom_do_not_matter():
    plain = parse_csv(xor_csv(header=False))
    assert plain == POINTS
    messy = "\ufeff\n" + xor_csv().replace("\n", "\r\n\r\n").replace(",1\r", ',"1"\r')
    assert parse_csv(messy) == POINTS
    assert parse_csv(xor_csv().replace("x,y,label", "X1, X2, class")) == POINTS


def test_the_hash_is_of_the_points_not_of_their_order_or_spelling():
    rows = xor_csv(header=False).splitlines()
    shuffled = "\n".join(reversed(rows))
    respelled = "\n".join(
        ",".join(f"{float(cell):.6f}" if i < 2 else f"{cell}.0" for i, cell in enumerate(row.split(",")))
        for row in rows
    )
    assert parse_csv(shuffled).hash == parse_csv(respelled).hash == POINTS.hash
    moved = rows[:-1] + [rows[-1].replace(rows[-1].split(",")[0], "0.999", 1)]
    assert parse_csv("\n".join(moved)).hash != POINTS.hash
    assert parse_csv("\n".join(rows + rows[:1])).hash != POINTS.hash  # a point twice counts twice


def test_the_canonical_csv_reads_back_as_the_same_points_with_short_numbers():
    data = parse_csv("0.1,-0.0,0\n" + "\n".join(f"{i}.5,1e-3,{i % 2}" for i in range(11)))
    text = data.csv()
    assert text.startswith("x,y,label\n0.1,0,0\n0.5,0.001,0\n2.5,0.001,0\n") and "-0" not in text
    again = from_canonical(text)
    assert again == data and np.array_equal(again.x, data.x) and np.array_equal(again.y, data.y)
    assert data.rows()[:2] == [[0.1, 0.0, 0], [0.5, 0.001, 0]]


def error_of(text: str, **limits) -> CsvError:
    with pytest.raises(CsvError) as caught:
        parse_csv(text, **limits)
    assert caught.value.message.endswith(".") and caught.value.message[0].isupper()
    return caught.value


TEN = "".join(f"0.{i},0.{i},{i % 2}\n" for i in range(10))  # ten good rows (lines 2 to 11 after a header)


@pytest.mark.parametrize(
    "bad_row, column, message",
    [
        ("0.5,0.5,9", "label", "Line 7: label 9 is not a class (0-5)."),
        ("0.5,0.5,-1", "label", "Line 7: label -1 is not a class (0-5)."),
        ("0.5,0.5,1.5", "label", "Line 7: label 1.5 is not a class (0-5)."),
        ("0.5,0.5,cat", "label", "Line 7: label cat is not a class (0-5)."),
        ("0.5,0.5,", "label", "Line 7: label is empty; it must be a class (0-5)."),
        ("abc,0.5,1", "x", "Line 7: x is 'abc', not a number."),
        ("0.5,,1", "y", "Line 7: y is empty."),
        ("0.5,nan,1", "y", "Line 7: y is 'nan', not a finite number."),
        ("inf,0.5,1", "x", "Line 7: x is 'inf', not a finite number."),
        ("0.5,1e400,1", "y", "Line 7: y is '1e400', not a finite number."),
        ("1000.5,0,1", "x", "Line 7: x is 1000.5, outside -1000 to 1000."),
        ("0.5,0.5", None, "Line 7: expected 3 values (x,y,label), found 2."),
        ("0.5,0.5,1,2", None, "Line 7: expected 3 values (x,y,label), found 4."),
        ("0.5;0.5;1", None, "Line 7: expected 3 values (x,y,label), found 1."),
    ],
)
def test_the_first_bad_row_is_named_by_its_line_and_column(bad_row, column, message):
    lines = TEN.splitlines()
    text = "x,y,label\n" + "\n".join(lines[:5] + [bad_row] + lines[5:] + ["also bad"])
    error = error_of(text)
    assert (error.message, error.line, error.column) == (message, 7, column)


def test_a_label_past_a_lower_class_limit_is_refused():
    assert error_of(TEN, max_classes=1).message == "Line 2: label 1 is not a class (0-0)."


def test_too_few_points_or_one_class_is_refused_for_the_whole_file():
    assert error_of("").line is None
    assert error_of("x,y,label\n").message.startswith("The file has no points: at least 10 are needed")
    assert error_of("0,0,0\n1,1,1\n").message.startswith(f"The file has 2 points: at least {MIN_POINTS}")
    one_class = error_of(TEN.replace(",1\n", ",0\n"))
    assert one_class.message == "Every point is of class 0: the data needs points of at least two classes."


def test_more_rows_than_the_limit_is_too_large_at_the_first_row_past_it():
    error = error_of("x,y,label\n" + TEN * 3, max_rows=25)
    assert isinstance(error, TooManyRows) and error.line == 27
    assert error.message == "The file has more than 25 points: the limit is 25."
    assert parse_csv(TEN * 2 + "\n\n", max_rows=20).points == 20  # exactly the limit, blank lines aside


def test_coordinates_up_to_the_limit_are_kept():
    data = parse_csv(TEN + f"{MAX_COORDINATE:g},{-MAX_COORDINATE:g},1\n")
    assert data.x.max() == MAX_COORDINATE and data.x.min() == -MAX_COORDINATE


# --- a custom config: the split --------------------------------------------------------------


@pytest.mark.parametrize("train_ratio", [0.1, 0.5, 0.7, 0.9])
def test_the_training_ratio_splits_the_points_and_the_validation_points_are_the_test_set(train_ratio):
    data = dataset_for(config_of("custom", train_ratio=train_ratio))
    n_val = max(1, round(POINTS.points * (1 - train_ratio)))
    assert (len(data.x_train), len(data.x_val)) == (POINTS.points - n_val, n_val)
    assert np.array_equal(data.x_test, data.x_val) and np.array_equal(data.y_test, data.y_val)
    assert data.classes == ["0", "1"] and data.name == "custom"
    every = np.concatenate([data.x_train, data.x_val])
    as_rows = sorted(map(tuple, np.c_[every, np.concatenate([data.y_train, data.y_val])].tolist()))
    assert as_rows == sorted(map(tuple, np.c_[POINTS.x, POINTS.y].tolist()))  # each point once


def test_the_seed_draws_the_split():
    first, again = (dataset_for(config_of("custom", seed=3)) for _ in range(2))
    other = dataset_for(config_of("custom", seed=4))
    assert np.array_equal(first.x_train, again.x_train) and np.array_equal(first.y_val, again.y_val)
    assert not np.array_equal(first.x_train, other.x_train)


def test_a_custom_config_knows_its_classes_and_trains_to_learn_its_points():
    config = config_of("custom", hidden=[8, 8], epochs=60)
    assert config.class_count == 2 and config.layer_sizes == [2, 8, 8, 2]
    assert config.to_query().startswith(f"dataset=custom&data={POINTS.hash}&hidden=8,8&")
    last = list(train(config))[-1]
    assert last.train_acc > 0.9 and last.test_acc == last.val_acc


def test_the_cost_estimate_counts_the_custom_points():
    config = config_of("custom", train_ratio=0.5)
    data = dataset_for(config)
    assert example_counts(config) == (len(data.x_train), len(data.x_val), len(data.x_test)) == (30, 30, 30)


def test_partial_settings_leave_the_points_out_for_the_page_to_ask_for():
    config = parse_query("dataset=custom&hidden=8&train_ratio=0.5", partial=True)
    assert config.data is None and config.hidden == (8,) and config.train_ratio == 0.5
    assert (
        config.to_query() == "dataset=custom&hidden=8&lr=0.3&batch_size=16&epochs=100&seed=42&train_ratio=0.5"
    )
    with pytest.raises(FieldError):
        parse_query("dataset=custom&hidden=8")


def test_the_cli_trains_on_a_csv_file_and_names_a_bad_row(tmp_path):
    good, bad = tmp_path / "points.csv", tmp_path / "bad.csv"
    good.write_text(xor_csv())
    bad.write_text(xor_csv().replace("\n", "\n0.5,0.5,7\n", 3))
    args = [sys.executable, "-m", "core.train", "--dataset", "custom", "--epochs", "3", "--json"]
    done = subprocess.run([*args, "--data", str(good)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    expected = [result.metrics() for result in train(config_of("custom", epochs=3))]
    assert [row["val_acc"] for row in rows] == [row["val_acc"] for row in expected]
    refused = subprocess.run([*args, "--data", str(bad)], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "bad.csv: Line 2: label 7 is not a class (0-5)." in refused.stderr

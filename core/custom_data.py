"""Your own 2D data: points read from CSV text (`x,y,label` rows), checked row by row, kept in a
canonical form whose hash names them.

`parse_csv(text, max_rows, max_classes)` reads an upload: a header line is optional (a first line of
three cells none of which is a number), blank lines are skipped, and the first bad row raises CsvError
with its line number (1 = the file's first line) and column, in a sentence; more than `max_rows` points
raise TooManyRows. The points are then sorted (by label, x, y) and each coordinate written as the
shortest text that gives back its float32 value: that canonical CSV is what is stored and hashed, so
the same points (in any order, with any spelling of their numbers) always get the same hash.

The number of classes is the largest label plus one (labels 0 and 2 make three outputs, one without
points). core.datasets.make_custom splits the points into training, validation and test sets.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

import numpy as np

COLUMNS = ("x", "y", "label")
HEADER = ",".join(COLUMNS)
MIN_POINTS = 10  # enough to train on some and validate on others
MIN_CLASSES = 2
MAX_COORDINATE = 1000.0  # |x| and |y| at most this: farther is surely a mistake (a unit, a column)
HASH_LENGTH = 20  # hex digits of the canonical CSV's SHA-256: 80 bits
HASH_PATTERN = f"[0-9a-f]{{{HASH_LENGTH}}}"
_HASH_RE = re.compile(HASH_PATTERN)


class CsvError(ValueError):
    """A file that cannot be used: `message` says why in a sentence; `line` (1-based) and `column` (x, y
    or label) say where, when it is one row's fault."""

    def __init__(self, message: str, line: int | None = None, column: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


class TooManyRows(CsvError):
    """More points than the limit allows."""


@dataclass(frozen=True, eq=False)
class CustomData:
    """A set of labelled 2D points in canonical order: `x` (n, 2) float32 and `y` (n,) int64, both
    read-only. Two are equal when their hashes are; str() is the hash (what configs and URLs carry)."""

    hash: str
    x: np.ndarray
    y: np.ndarray

    @property
    def points(self) -> int:
        return len(self.y)

    @property
    def classes(self) -> int:
        return int(self.y.max()) + 1

    def csv(self) -> str:
        return canonical_csv(self.x, self.y)

    def rows(self) -> list[list[float | int]]:
        """[[x, y, label], ...] as the canonical CSV writes them (0.1, not 0.10000000149)."""
        return [[float(a), float(b), int(c)] for a, b, c in _cells(self.csv())]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CustomData) and other.hash == self.hash

    def __hash__(self) -> int:
        return hash(self.hash)

    def __str__(self) -> str:
        return self.hash


def is_hash(text: object) -> bool:
    return isinstance(text, str) and _HASH_RE.fullmatch(text) is not None


def parse_csv(text: str, max_rows: int = 5000, max_classes: int = 6) -> CustomData:
    """Check and read CSV text of x,y,label rows; raises CsvError (TooManyRows) for the first problem."""
    xs: list[float] = []
    labels: list[int] = []
    first = True
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        if not line.strip():
            continue
        cells = [cell.strip().strip('"').strip() for cell in line.split(",")]
        if first and len(cells) == len(COLUMNS) and not any(map(_is_number, cells)):
            first = False
            continue  # a header, such as x,y,label
        first = False
        if len(cells) != len(COLUMNS):
            raise CsvError(f"Line {number}: expected 3 values ({HEADER}), found {len(cells)}.", number)
        if len(labels) == max_rows:
            raise TooManyRows(f"The file has more than {max_rows} points: the limit is {max_rows}.", number)
        xs += [_coordinate(cells[0], "x", number), _coordinate(cells[1], "y", number)]
        labels.append(_label(cells[2], number, max_classes))
    return _checked(np.array(xs, dtype=np.float32).reshape(-1, 2), np.array(labels, dtype=np.int64))


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _shown(cell: str) -> str:
    return repr(cell if len(cell) <= 20 else cell[:20] + "…")


def _coordinate(cell: str, column: str, line: int) -> float:
    if not cell:
        raise CsvError(f"Line {line}: {column} is empty.", line, column)
    try:
        value = float(cell)
    except ValueError:
        raise CsvError(f"Line {line}: {column} is {_shown(cell)}, not a number.", line, column) from None
    if not math.isfinite(value):
        raise CsvError(f"Line {line}: {column} is {_shown(cell)}, not a finite number.", line, column)
    if abs(value) > MAX_COORDINATE:
        limit = f"{-MAX_COORDINATE:g} to {MAX_COORDINATE:g}"
        raise CsvError(f"Line {line}: {column} is {value:g}, outside {limit}.", line, column)
    return value


def _label(cell: str, line: int, max_classes: int) -> int:
    classes = f"0-{max_classes - 1}"
    if not cell:
        raise CsvError(f"Line {line}: label is empty; it must be a class ({classes}).", line, "label")
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value == int(value) and 0 <= value < max_classes):
        raise CsvError(f"Line {line}: label {_shown(cell)[1:-1]} is not a class ({classes}).", line, "label")
    return int(value)


def _checked(x: np.ndarray, y: np.ndarray) -> CustomData:
    """The whole file's rules (enough points, two classes), then the canonical order and the hash."""
    if len(y) < MIN_POINTS:
        found = "no points" if len(y) == 0 else f"{len(y)} point{'s' if len(y) > 1 else ''}"
        raise CsvError(
            f"The file has {found}: at least {MIN_POINTS} are needed, to train on some and validate on "
            f"the others (rows of {HEADER}, such as 0.5,-0.2,1)."
        )
    if len(np.unique(y)) < MIN_CLASSES:
        raise CsvError(f"Every point is of class {y[0]}: the data needs points of at least two classes.")
    x = x + np.float32(0.0)  # -0.0 -> 0.0: one spelling per value
    order = np.lexsort((x[:, 1], x[:, 0], y))
    x, y = np.ascontiguousarray(x[order]), y[order]
    x.flags.writeable = False
    y.flags.writeable = False
    digest = hashlib.sha256(canonical_csv(x, y).encode("ascii")).hexdigest()[:HASH_LENGTH]
    return CustomData(digest, x, y)


def _number(value: np.float32) -> str:
    """The shortest text that reads back as this float32 ("0.1", "3", "1e-07")."""
    text = str(np.float32(value))
    return text[:-2] if text.endswith(".0") else text


def canonical_csv(x: np.ndarray, y: np.ndarray) -> str:
    """The header, then one `x,y,label` row per point, in the order given."""
    rows = [f"{_number(a)},{_number(b)},{int(c)}\n" for (a, b), c in zip(x, y, strict=True)]
    return HEADER + "\n" + "".join(rows)


def _cells(canonical: str) -> list[list[str]]:
    return [line.split(",") for line in canonical.splitlines()[1:]]


def from_canonical(canonical: str) -> CustomData:
    """A stored canonical CSV back into its points (checked against the limits when it was uploaded;
    the limits may have been lowered since, and its runs must still replay)."""
    return parse_csv(canonical, max_rows=len(canonical), max_classes=len(canonical))

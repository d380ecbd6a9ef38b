"""Derived arrays are written once to a private cache folder and memory-mapped, so processes share them;
MNIST's pixels come from there, and its test digits can be had alone, as uint8."""

from __future__ import annotations

import logging
import mmap
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core import data_cache
from core.datasets import MNIST_SHA256, load_mnist, load_mnist_test

ROOT = Path(__file__).resolve().parents[2]
SOURCE = {"x": np.arange(25_000, dtype=np.uint8).reshape(-1, 10)}


def halved(rows: np.ndarray) -> np.ndarray:
    return rows.astype(np.float32) / 2


def mapped_file(array: np.ndarray) -> bool:
    """True when the array's memory is a file mapping (np.load's mmap_mode), not this process's own."""
    while array.base is not None and not isinstance(array.base, mmap.mmap):
        array = array.base
    return isinstance(array.base, mmap.mmap)


def test_the_first_use_writes_the_file_and_later_ones_map_it(tmp_path):
    folder = tmp_path / "cache"
    first = data_cache.shared("abc", "x", SOURCE, halved, folder)
    assert mapped_file(first) and not first.flags.writeable and type(first) is np.ndarray
    np.testing.assert_array_equal(first, halved(SOURCE["x"]))
    path = folder / "abc-x.npy"
    assert (folder.stat().st_mode & 0o777) == 0o700
    written = path.stat().st_mtime_ns
    second = data_cache.shared("abc", "x", {}, halved, folder)  # the source is not even read
    np.testing.assert_array_equal(second, first)
    assert path.stat().st_mtime_ns == written
    assert sorted(p.name for p in folder.iterdir()) == [".lock", "abc-x.npy"]  # no temporary left


def test_a_damaged_file_is_written_again(tmp_path, caplog):
    folder = tmp_path / "cache"
    data_cache.shared("abc", "x", SOURCE, halved, folder)
    path = folder / "abc-x.npy"
    path.write_bytes(path.read_bytes()[:1000])  # cut short
    with caplog.at_level(logging.WARNING):
        again = data_cache.shared("abc", "x", SOURCE, halved, folder)
    assert "damaged" in caplog.text and mapped_file(again)
    np.testing.assert_array_equal(again, halved(SOURCE["x"]))


def test_a_folder_others_can_write_to_is_not_used(tmp_path, caplog):
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    with caplog.at_level(logging.WARNING):
        array = data_cache.shared("abc", "x", SOURCE, halved, folder)
    assert "keeps its own copy" in caplog.text
    assert not mapped_file(array) and not list(folder.iterdir())
    np.testing.assert_array_equal(array, halved(SOURCE["x"]))


def test_mnist_pixels_are_mapped_from_the_cache_keyed_by_the_files_sha256():
    data = load_mnist()
    for array in (data.x_train, data.x_val, data.x_test):
        assert mapped_file(array) and not array.flags.writeable
    names = {Path(p).name for p in data_cache.cache_folder().iterdir()}
    assert {f"{MNIST_SHA256}-x_train.npy", f"{MNIST_SHA256}-x_test.npy"} <= names


def test_mnist_test_digits_alone_are_the_same_digits_as_uint8():
    x_test, y_test = load_mnist_test()
    data = load_mnist()
    assert x_test.dtype == np.uint8 and x_test.shape == (10000, 784) and not x_test.flags.writeable
    np.testing.assert_array_equal(y_test, data.y_test)
    np.testing.assert_array_equal(x_test.astype(np.float32) / 255, data.x_test)  # bit for bit
    with pytest.raises(ValueError):
        x_test[0, 0] = 1


MAPPED_INODES = """
from core.datasets import load_mnist
load_mnist()
print(sorted({line.split()[4] for line in open("/proc/self/maps") if line.rstrip().endswith("x_train.npy")}))
"""


def test_processes_starting_together_write_the_cache_once_and_map_the_same_file(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # an empty cache
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", MAPPED_INODES], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    inodes = [process.communicate(timeout=120)[0].strip() for process in processes]
    assert all(process.returncode == 0 for process in processes)
    assert len(set(inodes)) == 1 and inodes[0] != "[]", inodes  # one file, mapped by all three
    (folder,) = tmp_path.iterdir()
    assert sorted(p.name for p in folder.iterdir()) == [
        ".lock",
        f"{MNIST_SHA256}-x_test.npy",
        f"{MNIST_SHA256}-x_train.npy",
    ]

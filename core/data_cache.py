"""Arrays derived from a shipped data file, kept as .npy files and memory-mapped, so that every process
on a machine shares one copy of them in the page cache instead of holding its own.

`shared(digest, key, source, convert)` answers convert(source[key]) as a read-only array mapped from
`<folder>/<digest>-<key>.npy`. The first process to ask writes that file (in chunks, to a temporary
name, then renamed: a file under the final name is always complete), under a lock, so processes starting
together write it once and all map the same file (two files would mean two copies in memory). The name
carries the source file's sha256 (checked by the caller), so a changed source gets a new file. The
folder is private to this user (mode 0700, in the system's temporary folder: `TMPDIR` moves it); when
it cannot be used (read-only, full, owned by someone else), the process computes the array in its own
memory instead, as if there were no cache.
"""

from __future__ import annotations

import getpass
import logging
import os
import stat
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; two processes may then both write the file once
    fcntl = None

log = logging.getLogger(__name__)

CHUNK_ROWS = 10_000  # rows converted at a time while writing (MNIST: 31 MB of float32)


def cache_folder() -> Path:
    """This user's cache folder in the system's temporary folder."""
    user = os.getuid() if hasattr(os, "getuid") else getpass.getuser()
    return Path(tempfile.gettempdir()) / f"numpy-nn-playground-{user}"


def shared(
    digest: str,
    key: str,
    source: Mapping[str, np.ndarray],
    convert: Callable[[np.ndarray], np.ndarray],
    folder: Path | None = None,
) -> np.ndarray:
    """convert(source[key]), memory-mapped read-only from the cache (written first if missing);
    `convert` maps rows to rows, so it can be applied a chunk at a time."""
    folder = folder or cache_folder()
    path = folder / f"{digest}-{key}.npy"
    try:
        _make_private(folder)
        with _locked(folder / ".lock"):
            if path.exists():
                try:
                    return _mapped(path)
                except ValueError:  # damaged (numpy cannot map it): written again below
                    log.warning("the data cache %s is damaged: writing it again", path)
            _write(path, source[key], convert)
            return _mapped(path)
    except OSError as error:
        log.warning("cannot use the data cache %s (%s): this process keeps its own copy", path, error)
        return convert(source[key])


def _make_private(folder: Path) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.lstat()
    mine = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    if not stat.S_ISDIR(info.st_mode) or not mine or info.st_mode & 0o022:
        raise PermissionError(f"{folder} is not a folder that only this user can write to")


@contextmanager
def _locked(lock: Path) -> Iterator[None]:
    with lock.open("a") as file:
        if fcntl is not None:
            fcntl.flock(file, fcntl.LOCK_EX)  # released when the file is closed
        yield


def _write(path: Path, rows: np.ndarray, convert: Callable[[np.ndarray], np.ndarray]) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        first = convert(rows[:1])
        out = np.lib.format.open_memmap(
            temporary, mode="w+", dtype=first.dtype, shape=(len(rows), *first.shape[1:])
        )
        for start in range(0, len(rows), CHUNK_ROWS):
            out[start : start + CHUNK_ROWS] = convert(rows[start : start + CHUNK_ROWS])
        out.flush()
        del out
        with temporary.open("rb") as file:
            os.fsync(file.fileno())  # complete on disk before it takes the final name
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _mapped(path: Path) -> np.ndarray:
    """The file's array, mapped read-only, as a plain ndarray (np.memmap's indexing costs more)."""
    return np.load(path, mmap_mode="r").view(np.ndarray)

"""Make freed memory go back to the operating system, so a server process's memory stays flat.

glibc's malloc serves an allocation of M_MMAP_THRESHOLD bytes or more with a mapping of its own, given
back to the system when freed; smaller ones come from per-thread arenas, which keep what was freed for
later. By default the threshold moves: every large block freed raises it to that block's size (up to
32 MB), so the arrays a run allocates for a moment (a confusion matrix's activations on 10,000 images,
8 MB) soon land in the arenas, and with a hundred threads each arena keeps its own. Two gunicorn workers
then grew by about 25 MB every four MNIST runs (tests/server/test_memory.py measures it). A fixed
threshold of 4 MB keeps every training batch (at most a few hundred kB) in the arenas, as fast as before,
and gives every larger array back.

What the arenas keep of smaller blocks (a page of replayed events, a chunk of a download, freed when a
slow reader leaves) is given back by `give_free_memory_back()` (malloc_trim), which each process's
keeper calls every round: after 200 slow readers leave, the workers return to within a few MB of where
they were (tests/server/test_bounded_reads.py). Elsewhere than glibc (macOS, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import platform

M_MMAP_THRESHOLD = -3  # mallopt's parameter number (glibc's malloc.h)
MMAP_THRESHOLD_BYTES = 4 * 1024 * 1024


def _libc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    return ctypes.CDLL(None)


def give_large_blocks_back() -> bool:
    """Fix glibc's mmap threshold at MMAP_THRESHOLD_BYTES for this process; True if it was set."""
    mallopt = getattr(_libc(), "mallopt", None)
    return mallopt is not None and mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1


def give_free_memory_back() -> None:
    """Return the free memory of every malloc arena to the system (glibc's malloc_trim(0))."""
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)

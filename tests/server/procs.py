"""Looking at server processes from the outside, through /proc (Linux): workers, their use of
threads, file descriptors and memory, and which worker holds a given client connection."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.procfile import children


def wait_for_workers(master: int, count: int, limit: float = 30, exclude: tuple[int, ...] = ()) -> list[int]:
    """The master's workers once there are `count` of them (none of `exclude`), and each answers."""
    deadline = time.monotonic() + limit
    while True:
        workers = [pid for pid in children(master) if pid not in exclude]
        if len(workers) == count:
            return workers
        assert time.monotonic() < deadline, f"{master} has workers {children(master)}, wanted {count}"
        time.sleep(0.1)


def status_field(pid: int, name: str) -> int:
    """A number from /proc/<pid>/status: Threads, VmRSS (kB), VmHWM (kB, the peak RSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise KeyError(name)


def usage(pid: int) -> dict[str, int]:
    """Threads, open file descriptors and resident memory (kB) of one process."""
    return {
        "threads": status_field(pid, "Threads"),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "rss_kb": status_field(pid, "VmRSS"),
    }


def memory(pid: int) -> dict[str, float]:
    """A process's memory in MB, from /proc/<pid>/smaps_rollup: `rss` (resident: every page it maps,
    shared ones counted in full), `pss` (proportional: a page shared by n processes counts 1/n, so the
    PSS of all processes adds up to what they use together), and `anon` (its own heap, never shared)."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_ = line.split()
        fields[name.rstrip(":")] = int(value) / 1024
    return {"rss": fields["Rss"], "pss": fields["Pss"], "anon": fields["Anonymous"]}


def total_memory(pids: list[int]) -> dict[str, float]:
    """memory() summed over processes (a server's master and workers): `pss` is what they use together,
    as a container's memory limit counts it (each shared page once); `rss` counts shared pages once per
    process that maps them."""
    each = [memory(pid) for pid in pids]
    return {key: sum(m[key] for m in each) for key in each[0]}


def mapped_files(pid: int) -> set[str]:
    """The paths of the files a process has mapped into memory (/proc/<pid>/maps)."""
    paths = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[5].startswith("/"):
            paths.add(fields[5])
    return paths


def _socket_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the server's end of the loopback connection from client_port."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        remote_port = int(fields[2].split(":")[1], 16)
        if local_port == server_port and remote_port == client_port:
            return fields[9]
    return None


def serving_pid(server_port: int, client_port: int, candidates: list[int]) -> int | None:
    """Which of the candidate processes (workers) holds the server's end of this connection."""
    inode = _socket_inode(server_port, client_port)
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for pid in candidates:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                        return pid
                except OSError:
                    pass
        except OSError:
            pass
    return None


def cpu_seconds(pids: list[int]) -> float:
    """The CPU time (user + system) these processes have used so far, in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat(5)
    return total / ticks

"""Running under gevent (the Procfile's web worker, server.gevent_worker) or not (`python -m server`, tests).

gunicorn's gevent worker monkey-patches `threading`: a `threading.Thread` there is a greenlet, which
would train a run on the event loop and stall every stream and page of the process. So:

- `os_thread(target, name)` starts a real OS thread in either case (under gevent, from gevent's own
  native-thread facility, `gevent.threadpool.ThreadPool`); its `join(timeout)` waits cooperatively;
- `to_loop(function, *args)` runs `function` on the event loop's thread: at once when called there (or
  when gevent is not in use), else on a new greenlet started through the hub
  (`loop.run_callback_threadsafe`), the one safe way for an OS thread to wake greenlets; greenlets start
  in the order they were handed over, so messages keep their order;
- `thread_local()` is local to an OS thread, never to a greenlet (greenlets of one loop share it).

Without gevent's patches all three are the standard library's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol


def patched() -> bool:
    """True in a process whose `threading` gevent has monkey-patched."""
    try:
        from gevent import monkey
    except ImportError:
        return False
    return monkey.is_module_patched("threading")


class Joinable(Protocol):
    def join(self, timeout: float | None = None) -> None: ...

    def is_alive(self) -> bool: ...


class _PoolThread:
    """One OS thread from a gevent thread pool of one."""

    def __init__(self, target: Callable[[], None], name: str) -> None:
        from gevent.threadpool import ThreadPool

        self._pool = ThreadPool(1)
        self._result = self._pool.spawn(target)
        self.name = name

    def join(self, timeout: float | None = None) -> None:
        self._result.wait(timeout)
        if self._result.ready():
            self._pool.kill()

    def is_alive(self) -> bool:
        return not self._result.ready()


def os_thread(target: Callable[[], None], name: str) -> Joinable:
    """Start `target` on a real OS thread (a daemon: it never holds the interpreter at exit)."""
    if patched():
        return _PoolThread(target, name)
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


def in_background(function: Callable[[], None], name: str) -> None:
    """Run `function` beside the caller without waiting for it (a greenlet under gevent, which a signal
    handler may start; a daemon thread otherwise)."""
    if patched():
        import gevent

        gevent.spawn(function)
    else:
        threading.Thread(target=function, name=name, daemon=True).start()


_loop: tuple[int, Any] | None = None  # (the event loop's OS thread, its hub), once gevent is in use


def _os_thread_id() -> int:
    from gevent import monkey

    return monkey.get_original("_thread", "get_ident")()


def bind_loop() -> None:
    """Remember the calling OS thread's hub as the event loop (called where the app is made, on it)."""
    global _loop
    if patched():
        from gevent import get_hub

        _loop = (_os_thread_id(), get_hub())


def to_loop(function: Callable[..., Any], *args: Any) -> None:
    """Run `function(*args)` on the event loop's thread: now if this is it (or there is no loop), else
    as soon as the loop gets to it."""
    if _loop is None or _os_thread_id() == _loop[0]:
        function(*args)
    else:  # on a greenlet of its own, which may wait on a lock as a callback of the loop may not
        import gevent

        _loop[1].loop.run_callback_threadsafe(gevent.spawn, function, *args)


def thread_local() -> threading.local:
    """A thread-local namespace local to the OS thread, also under gevent."""
    if patched():
        from gevent import monkey

        return monkey.get_original("threading", "local")()
    return threading.local()

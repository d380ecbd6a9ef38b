"""Running under gevent (the Procfile's web worker: gunicorn's gevent worker) or not (`python -m server`,
the RQ workers, in-process tests).

gunicorn's gevent worker monkey-patches `threading`: a `threading.Thread` there is a greenlet, which
would train a run on the event loop and stall every stream and page of the process. So:

- `os_thread(target, name)` starts a real OS thread in either case (under gevent, the standard library's
  own `_thread.start_new_thread`, as gevent keeps it); its `join(timeout)` waits cooperatively;
  `os_queue(maxsize)` is a bounded queue between two OS threads; `off_loop(function, *args)` runs CPU
  work of a request on an OS thread of the hub's pool while its greenlet waits;
- `to_loop(function, *args)` runs `function` on the event loop's thread: at once when called there (or
  when gevent is not in use), else on a new greenlet started through the hub
  (`loop.run_callback_threadsafe`), the one safe way for an OS thread to wake greenlets; greenlets start
  in the order they were handed over, so messages keep their order;
- `thread_local()` is local to an OS thread, never to a greenlet (greenlets of one loop share it).

Without gevent's patches they are the standard library's. Objects that OS threads and greenlets both
touch hold gevent's locks only for moments (never across a wait), or are polled (flags).
"""

from __future__ import annotations

import contextvars
import queue
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


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


class _OsThread:
    """A thread started with the standard library's own `_thread.start_new_thread`; its end is a native
    lock's release. Joined from another OS thread, `join` waits on that lock; from the event loop's
    thread it looks at it every JOIN_POLL_SECONDS (gevent's sleep), so the loop is never held."""

    def __init__(self, target: Callable[[], None], name: str) -> None:
        self.name = name
        self._running = original("_thread", "allocate_lock")()
        self._running.acquire()

        def run() -> None:
            try:
                target()
            finally:
                self._running.release()

        original("_thread", "start_new_thread")(run, ())

    def join(self, timeout: float | None = None) -> None:
        if _loop is None or _os_thread_id() != _loop[0]:
            if self._running.acquire(timeout=-1 if timeout is None else timeout):
                self._running.release()
            return
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.is_alive() and (deadline is None or time.monotonic() < deadline):
            time.sleep(JOIN_POLL_SECONDS)

    def is_alive(self) -> bool:
        return self._running.locked()


JOIN_POLL_SECONDS = 0.02


def os_thread(target: Callable[[], None], name: str) -> Joinable:
    """Start `target` on a real OS thread (a daemon: it never holds the interpreter at exit)."""
    if patched():
        return _OsThread(target, name)
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


class _OsQueue:
    """A bounded FIFO between OS threads built on the C `_queue.SimpleQueue` (which gevent leaves alone):
    its waits are the OS thread's own, never a hub's."""

    def __init__(self, maxsize: int) -> None:
        import _queue

        self._items = _queue.SimpleQueue()
        self._places = _queue.SimpleQueue()  # a token per free place
        for _ in range(maxsize):
            self._places.put(None)

    def put(self, item: Any) -> None:
        self._places.get()
        self._items.put(item)

    def put_nowait(self, item: Any) -> None:
        try:
            self._places.get_nowait()
        except queue.Empty:
            raise queue.Full from None
        self._items.put(item)

    def get(self) -> Any:
        item = self._items.get()
        self._places.put(None)
        return item


def os_queue(maxsize: int) -> Any:
    """A bounded FIFO between OS threads: `put` (waits for a place), `put_nowait` (raises queue.Full),
    `get` (waits for an item)."""
    return _OsQueue(maxsize) if patched() else queue.Queue(maxsize)


def off_loop(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)`, for CPU work in a request (views, gzip of a large answer): under gevent on one of
    the hub's pool of OS threads while the calling greenlet waits (the loop serves the others meanwhile);
    otherwise right here. It runs in a copy of the caller's context (Flask's `current_app` works)."""
    if _loop is None:
        return function(*args)
    context = contextvars.copy_context()  # Flask's app and request context go along
    return _loop[1].threadpool.apply(context.run, (function, *args))


def in_background(function: Callable[[], None], name: str) -> None:
    """Run `function` beside the caller without waiting for it (a greenlet under gevent, which a signal
    handler may start; a daemon thread otherwise)."""
    if patched():
        import gevent

        gevent.spawn(function)
    else:
        threading.Thread(target=function, name=name, daemon=True).start()


# How long a thread that wants the GIL waits at most for a training thread to let go of it (Python's
# default: 5 ms). The loop lets go at every send to a socket; with 5 ms it would get it back ~5 ms later
# each time, which adds up over a thousand streams.
SWITCH_INTERVAL = 0.0005

_loop: tuple[int, Any] | None = None  # (the event loop's OS thread, its hub), once gevent is in use


def _os_thread_id() -> int:
    from gevent import monkey

    return monkey.get_original("_thread", "get_ident")()


def bind_loop() -> None:
    """Remember the calling OS thread's hub as the event loop (called where the app is made, on it), and
    hand the GIL round more often (SWITCH_INTERVAL)."""
    global _loop
    if patched():
        from gevent import get_hub

        _loop = (_os_thread_id(), get_hub())
        sys.setswitchinterval(SWITCH_INTERVAL)


def to_loop(function: Callable[..., Any], *args: Any) -> None:
    """Run `function(*args)` on the event loop's thread: now if this is it (or there is no loop), else
    as soon as the loop gets to it."""
    if _loop is None or _os_thread_id() == _loop[0]:
        function(*args)
    else:  # on a greenlet of its own, which may wait on a lock as a callback of the loop may not
        import gevent

        _loop[1].loop.run_callback_threadsafe(gevent.spawn, function, *args)


def original(module: str, name: str) -> Any:
    """The standard library's `module.name`, as it was before gevent's patches (say select.poll, whose
    patched version costs a watcher on the loop for what is a single system call with timeout 0)."""
    if patched():
        from gevent import monkey

        return monkey.get_original(module, name)
    return getattr(__import__(module), name)


def thread_local() -> threading.local:
    """A thread-local namespace local to the OS thread, also under gevent."""
    if patched():
        from gevent import monkey

        return monkey.get_original("threading", "local")()
    return threading.local()

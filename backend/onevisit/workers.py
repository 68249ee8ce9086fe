"""One pool of worker processes for CPU-bound work that threads cannot share out, because it
keeps the GIL (hashlib on short messages, parsing a file): large draws (planning/draw.py) and
large subject imports (directory/parts.py) hand shares of it to these processes while the
calling process does its own part.

The pool is made on first use with the "forkserver" start method (the server calls it from
an asyncio app and its worker threads, where fork() is unsafe), has one process per CPU but
one (the calling process is busy too), runs them with the cyclic GC off (their work builds
millions of acyclic objects), and lives until exit. A pool whose process died is dropped with
`discard`; the next call starts a new one."""

from __future__ import annotations

import atexit
import gc
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor

__all__ = ["WorkerError", "discard", "pool", "shutdown", "worker_count"]


class WorkerError(RuntimeError):
    """A worker process died (killed, out of memory): the work's inputs are fine and the same
    work can be done again."""


_executor: ProcessPoolExecutor | None = None
_lock = threading.Lock()


def worker_count() -> int:
    """Worker processes besides the calling one (0: one CPU, do the work in-process)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return cpus - 1


def pool() -> ProcessPoolExecutor | None:
    """The pool, started if need be; None on one CPU."""
    global _executor
    with _lock:
        if _executor is None:
            count = worker_count()
            if count < 1:
                return None
            context = multiprocessing.get_context("forkserver")
            _executor = ProcessPoolExecutor(count, mp_context=context, initializer=gc.disable)
        return _executor


def discard(executor: ProcessPoolExecutor) -> None:
    """Forget a broken pool (BrokenProcessPool): the next pool() starts a new one."""
    global _executor
    with _lock:
        if _executor is executor:
            _executor = None


def shutdown() -> None:
    """Stop the worker processes (at exit; a later pool() starts them again)."""
    global _executor
    with _lock:
        executor, _executor = _executor, None
    if executor is not None:
        executor.shutdown(wait=True, cancel_futures=True)


atexit.register(shutdown)

"""One pool of worker processes for CPU-bound work that threads cannot share out, because it
keeps the GIL (hashlib on short messages, parsing a file, ECDSA verification): large draws
(planning/draw.py), large subject imports (directory/parts.py) and sync batches' signatures
(sync/checks.py) hand shares of it to these processes while the calling process does its own
part.

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
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Any

__all__ = ["WorkerError", "discard", "pool", "shutdown", "submit", "worker_count"]


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


def submit(function: Callable[..., Any], *args: Any) -> Future | None:
    """function(*args) handed to a worker process now; None when there is no pool (one CPU) or
    it is broken. A pool found broken, now or when the future ends, is discarded."""
    executor = pool()
    if executor is None:
        return None
    try:
        future = executor.submit(function, *args)
    except BrokenProcessPool:
        discard(executor)
        return None
    future.add_done_callback(partial(_discard_if_broken, executor))
    return future


def _discard_if_broken(executor: ProcessPoolExecutor, future: Future) -> None:
    if not future.cancelled() and isinstance(future.exception(), BrokenProcessPool):
        discard(executor)


def shutdown() -> None:
    """Stop the worker processes (at exit; a later pool() starts them again)."""
    global _executor
    with _lock:
        executor, _executor = _executor, None
    if executor is not None:
        executor.shutdown(wait=True, cancel_futures=True)


atexit.register(shutdown)

"""Render many rectification notices in parallel processes.

Each worker process sets up matplotlib, the Jinja environment, the parsed
stylesheet and WeasyPrint's font configuration once (the pool initializer), so
every further PDF only pays for its own layout.  One street's failure is reported
with its error and never stops the others.
"""

from __future__ import annotations

import fcntl
import functools
import gc
import hashlib
import os
import re
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from reports.models import NoticeData

T = TypeVar("T")
RENDERER_GC_THRESHOLDS = (50_000, 20, 100)  # Python's defaults: (700, 10, 10)
_UNSAFE = re.compile(r'[\x00-\x1f/\\:*?"<>|]+')


@dataclass(frozen=True, slots=True)
class NoticeResult:
    """Outcome for one street: a written PDF (``path`` or ``pdf``) or an ``error``.

    ``pdf`` holds the bytes only when no output folder was given.
    """

    street: str
    path: Path | None = None
    pdf: bytes | None = None
    sha256: str | None = None
    size: int = 0
    seconds: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the PDF was written."""
        return self.error is None


Progress = Callable[[NoticeResult, int, int], None]
"""Called as ``progress(result, done, total)`` after each finished street."""


def file_name(street: str) -> str:
    """A safe file name for a street's notice (``宁海路街道.pdf``)."""
    name = _UNSAFE.sub("_", street).strip(" .") or "street"
    return f"{name}.pdf"


def die_with_parent(parent: int) -> None:
    """Make this process die when ``parent`` does (Linux ``PR_SET_PDEATHSIG``).

    Renderer processes must never outlive the job process that started them: a
    SIGKILLed worker would otherwise leave them running, holding inherited
    sockets (a database session then stays open) and hundreds of MB.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _prepare_worker(parent: int | None = None) -> None:
    """Pool initializer: load fonts, templates and charts once per process.

    Renderer processes are forked from a process that has already done this
    (:func:`generate_notices` warms itself up first), so in them it costs nothing.
    In a renderer the garbage collector leaves alone what it inherited (fonts,
    templates, matplotlib: ``gc.freeze``) and runs less often: a notice's layout
    makes hundreds of thousands of short-lived objects, nearly all freed by
    reference counting, and the default thresholds traversed them again and
    again (about 7% of a notice's CPU, docs/jobs.md).
    """
    if parent is not None:
        die_with_parent(parent)
        gc.freeze()
        gc.set_threshold(*RENDERER_GC_THRESHOLDS)
    _warm_up()


@functools.cache
def _warm_up() -> None:
    from reports import charts, pdf, templating

    charts.setup()
    templating.environment()
    pdf.stylesheet("official.css")
    # warm Pango's font caches with the faces every notice uses
    warm_up = (
        "<p style=\"font-family: 'Minping UKai', 'AR PL UKai CN'\">民评</p>"
        '<h1 class="title">民评</h1><h2>民评</h2>'
    )
    pdf.create_pdf(warm_up, stylesheets=("official.css",))


def _warm_shared_charts(data: NoticeData) -> None:
    """Draw what a wave's notices share (the funnel's background) once, before forking."""
    from reports.notice import funnel_chart

    try:
        funnel_chart(data)
    except Exception:  # noqa: BLE001, S110 - each street's own rendering reports it
        pass


def _slot_files() -> list[int]:
    """This process's open slot files (one per core; :func:`render_slot`).

    Opened by each process itself: a lock belongs to the open file, which a
    forked child would otherwise share with its parent and siblings.
    """
    pid = os.getpid()
    if pid not in _SLOTS:
        folder = Path(tempfile.gettempdir()) / f"minping-render-slots-{os.getuid()}"
        folder.mkdir(mode=0o700, exist_ok=True)
        _SLOTS[pid] = [
            os.open(folder / f"slot-{i}", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            for i in range(max(1, os.cpu_count() or 1))
        ]
    return _SLOTS[pid]


_SLOTS: dict[int, list[int]] = {}
SLOT_WAIT = 0.005  # seconds between two looks for a free slot


@contextmanager
def render_slot() -> Iterator[None]:
    """Hold one of the host's rendering slots (as many as cores) while rendering a notice.

    Every ``minping worker`` renders on all cores of its host, so two workers on
    one host ran twice as many renderers as cores, and each notice cost more CPU
    (caches and time slices shared: 0.39 against 0.36 s per document).  A
    renderer takes a free slot (an ``flock`` on a file per core, released by the
    kernel if the process dies) or waits for one, so a host renders at most
    one notice per core whatever the number of workers.  Without usable slot
    files it renders unthrottled.
    """
    try:
        slots = _slot_files()
    except OSError:
        yield
        return
    held = None
    while held is None:
        for fd in slots:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue
            held = fd
            break
        else:
            time.sleep(SLOT_WAIT)  # all taken: look again (a notice takes ~0.3 s)
    try:
        yield
    finally:
        fcntl.flock(held, fcntl.LOCK_UN)


def _render_one(data: NoticeData, target: Path | None) -> NoticeResult:
    from reports.notice import render_notice_pdf

    start = time.perf_counter()
    try:
        with render_slot():
            document = render_notice_pdf(data)
        digest = hashlib.sha256(document).hexdigest()
        if target is not None:
            target.write_bytes(document)
    except Exception as exc:  # reported per street; the others carry on
        return NoticeResult(
            data.street, error=f"{type(exc).__name__}: {exc}", seconds=time.perf_counter() - start
        )
    return NoticeResult(
        street=data.street,
        path=target,
        pdf=None if target is not None else document,
        sha256=digest,
        size=len(document),
        seconds=time.perf_counter() - start,
    )


def _targets(notices: Sequence[NoticeData], out_dir: Path | None) -> list[Path | None]:
    if out_dir is None:
        return [None] * len(notices)
    out_dir.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    paths: list[Path | None] = []
    for data in notices:
        name = file_name(data.street)
        stem, n = name[:-4], 2
        while name in seen:
            name, n = f"{stem}-{n}.pdf", n + 1
        seen.add(name)
        paths.append(out_dir / name)
    return paths


def generate_notices(
    notices: Sequence[NoticeData],
    out_dir: Path | None = None,
    *,
    processes: int | None = None,
    progress: Progress | None = None,
    separate: bool = False,
) -> list[NoticeResult]:
    """Render one notice PDF per street.

    Parameters
    ----------
    notices
        One :class:`~reports.models.NoticeData` per street.
    out_dir
        Folder for the PDFs, named by street (:func:`file_name`); ``None`` keeps the
        bytes in the results instead.
    processes
        Worker processes; default ``os.cpu_count()``; ``1`` renders in this process.
    progress
        Called after each finished street, in completion order.
    separate
        Render in renderer processes even for one notice or ``processes=1``, so
        this process's interpreter stays free (a job thread inside a web server).

    Returns
    -------
    list of NoticeResult
        In the order of ``notices``; failed streets carry ``error`` instead of a PDF.
    """
    targets = _targets(notices, out_dir)
    total = len(notices)
    results: list[NoticeResult | None] = [None] * total
    workers = max(1, processes or os.cpu_count() or 1)
    done = 0

    def finish(index: int, result: NoticeResult) -> None:
        nonlocal done
        results[index] = result
        done += 1
        if progress is not None:
            progress(result, done, total)

    if (workers == 1 or total <= 1) and not separate:
        _prepare_worker()
        for i, (data, target) in enumerate(zip(notices, targets, strict=True)):
            finish(i, _render_one(data, target))
    else:
        shared = _SHARED.get(os.getpid())
        if shared is None or not shared.ready(workers):
            _warm_up()  # before forking: every renderer starts with the fonts and caches loaded
            _warm_shared_charts(notices[0])
        if shared is not None:
            pool = shared.get(workers)
        else:
            pool = ProcessPoolExecutor(
                min(workers, total), initializer=_prepare_worker, initargs=(os.getpid(),)
            )
        try:
            futures: dict[Future[NoticeResult], int] = {
                pool.submit(_render_one, data, target): i
                for i, (data, target) in enumerate(zip(notices, targets, strict=True))
            }
            for future in as_completed(futures):
                i = futures[future]
                try:
                    result = future.result()
                except Exception as exc:  # the worker died (e.g. out of memory)
                    result = NoticeResult(notices[i].street, error=f"{type(exc).__name__}: {exc}")
                finish(i, result)
        except BaseException:
            _abandon(pool)  # e.g. the caller's progress callback stops the job
            if shared is not None:
                shared.pool = None
            raise
        if shared is None:
            pool.shutdown()
    return [r for r in results if r is not None]


class _SharedPool:
    """One renderer pool for every :func:`generate_notices` call inside :func:`shared_pool`."""

    def __init__(self) -> None:
        self.pool: ProcessPoolExecutor | None = None
        self.workers = 0
        self.lock = threading.Lock()  # several threads may render batches at once

    def ready(self, workers: int) -> bool:
        """Whether a pool of ``workers`` processes is running (already forked and warm)."""
        return self.pool is not None and self.workers == workers

    def get(self, workers: int) -> ProcessPoolExecutor:
        with self.lock:
            if self.pool is not None and self.workers != workers:
                self.pool.shutdown()
                self.pool = None
            if self.pool is None:
                self.pool = ProcessPoolExecutor(
                    workers, initializer=_prepare_worker, initargs=(os.getpid(),)
                )
                self.workers = workers
            return self.pool


_SHARED: dict[int, _SharedPool] = {}  # by process id: a forked child never uses its parent's


def submit(func: Callable[..., T], *args: Any, warm: NoticeData | None = None) -> Future[T]:
    """Run ``func(*args)`` in a renderer of this process's :func:`shared_pool`.

    For a long document that would otherwise be rendered on its own at the end of
    a batch (a wave's ranking report: 50 pages for 300 streets, about 9 s of one
    core): submitted before the batch's notices, it is rendered while they are.
    ``warm`` is a notice of the batch, whose shared charts are drawn before the
    pool's processes are forked (as :func:`generate_notices` does).  Outside a
    :func:`shared_pool` block ``func`` runs here and now (the future is done).
    """
    shared = _SHARED.get(os.getpid())
    if shared is None:
        future: Future[T] = Future()
        try:
            future.set_result(func(*args))
        except Exception as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future
    _warm_up()
    if warm is not None:
        _warm_shared_charts(warm)
    return shared.get(max(1, os.cpu_count() or 1)).submit(func, *args)


@contextmanager
def shared_pool() -> Iterator[None]:
    """Keep one renderer pool for every batch rendered in this block (this process only).

    A wave rendered in parts would otherwise fork and warm up new renderer
    processes for every part; here they are forked once and stay warm (their
    caches, e.g. the wave's funnel background, too).  Leaving the block stops
    them: normally by waiting, on an exception (a job stopping) by killing them.
    Nested blocks share the outer pool.
    """
    pid = os.getpid()
    if pid in _SHARED:
        yield
        return
    shared = _SHARED[pid] = _SharedPool()
    try:
        yield
    except BaseException:
        if shared.pool is not None:
            _abandon(shared.pool)
        raise
    else:
        if shared.pool is not None:
            shared.pool.shutdown()
    finally:
        del _SHARED[pid]


def _abandon(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: drop queued work and kill its processes (not wait for them)."""
    processes = list(getattr(pool, "_processes", {}).values())  # no public accessor
    results = getattr(pool, "_result_queue", None)  # shutdown() lets go of it
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.kill()
    for process in processes:
        process.join(timeout=5)
    # A renderer killed while it was sending its result (a PDF is larger than a
    # pipe's buffer) leaves half a message in the result pipe, and the pool's
    # manager thread would wait for the rest for ever, and the interpreter's
    # exit with it (it joins that thread).  With the renderers gone, this
    # process holds the pipe's last writer: closing it gives the reader an
    # end of file, so the manager marks the pool broken and finishes.
    writer = getattr(results, "_writer", None)
    if writer is not None and not writer.closed:
        writer.close()

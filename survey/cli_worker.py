"""``minping worker``: run background jobs (notices, scoring, exports) from the task queue.

Signals (docs/jobs.md): SIGTERM hands the running job back to the queue at
once and exits; SIGINT finishes the running job, then exits; SIGHUP finishes
it, then restarts.  A SIGKILLed worker's job is taken over by another worker's
reaper once its lease runs out.  Renderer processes die with the worker.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from types import FrameType
from typing import Any

import click

from .cli_context import with_appcontext


def _consumer_class() -> type[Any]:
    from huey.consumer import Consumer

    from .services.jobs import STOPPING

    class WorkerConsumer(Consumer):
        """Huey's consumer, with SIGTERM meaning "hand the job back now"."""

        reload_requested = False

        def _handle_signal(self, signum: int, frame: FrameType | None) -> None:
            if signum == signal.SIGTERM:
                STOPPING.set()  # the running job releases itself at its next step
                self._signum, self._restart, self._graceful = signum, False, True
                return
            super()._handle_signal(signum, frame)
            if self._restart:  # SIGHUP: finish the job, then re-exec (see worker())
                self.reload_requested, self._restart = True, False

    return WorkerConsumer


@click.command("worker")
@click.option(
    "--threads",
    default=1,
    show_default=True,
    type=click.IntRange(1, 16),
    help="Jobs run at once (each notice job already renders on every core).",
)
@click.option(
    "--grace",
    default=600,
    show_default=True,
    type=click.IntRange(1, 86400),
    help="Seconds SIGINT/SIGHUP wait for running jobs before they are abandoned.",
)
@with_appcontext
def worker(threads: int, grace: int) -> None:
    """Run background jobs from the queue until stopped (SIGTERM, SIGINT, SIGHUP)."""
    from flask import current_app

    from .logging import configure_process_logging
    from .queue import get_queue, reap_once, reaper_loop

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("MINPING_SYNC_JOBS"):
        raise click.ClickException("MINPING_SYNC_JOBS is set: jobs run inline, no worker needed")
    configure_process_logging(app)
    try:
        os.setpgrp()  # one process group: `kill -- -PID` reaches the renderers too
    except OSError:
        pass  # already a session or group leader
    queue = get_queue(app)
    stop = threading.Event()
    reap_once(app)  # jobs of a worker that died while none was running
    threading.Thread(target=reaper_loop, args=(app, stop), name="reaper", daemon=True).start()
    consumer = _consumer_class()(
        queue.huey,
        workers=threads,
        worker_type="thread",
        periodic=False,
        initial_delay=0.1,
        max_delay=1.0,
        shutdown_timeout=grace,
    )
    logging.getLogger("minping.jobs").info(
        "worker %s started: %s thread(s), queue %s", os.getpid(), threads, queue.description
    )
    consumer.run()
    stop.set()
    if consumer.reload_requested:
        logging.getLogger("minping.jobs").info("worker %s will restart", os.getpid())
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    if consumer.reload_requested:
        os.execv(sys.executable, sys.orig_argv)  # same pid, fresh code and configuration
    # Leave at once: no interpreter shutdown waiting on a renderer pool.
    os._exit(0)

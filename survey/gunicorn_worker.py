"""gunicorn's threaded worker with a read timeout, for ``serve --prod`` without nginx.

A slow client (one that sends its request a byte at a time) holds a worker's
thread while gunicorn reads the request.  With sync workers one such client
stops a whole worker; with threads it holds one thread, and this class also
gives up on a client that sends nothing for ``READ_TIMEOUT`` seconds.  That
limits the damage; it does not prevent it (a client that keeps dribbling, or
more slow clients than threads, still wins): put nginx in front
(docs/deploy.md), which reads whole requests before gunicorn sees them.
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

READ_TIMEOUT = float(os.environ.get("MINPING_READ_TIMEOUT", "10"))


class BoundedThreadWorker(ThreadWorker):
    """``gthread`` whose sockets time out when a client stops sending or reading."""

    def handle(self, conn: Any) -> Any:
        init = conn.init

        def init_with_timeout() -> None:
            init()
            conn.sock.settimeout(READ_TIMEOUT)

        conn.init = init_with_timeout
        return super().handle(conn)

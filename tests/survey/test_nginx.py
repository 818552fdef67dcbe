"""Behind nginx (deploy/nginx.conf, the configuration docs/deploy.md shows), slow
clients do not take the site down; without it, one slow client stops a sync worker.

The test starts ``minping serve --prod`` (one sync worker: the most fragile
setting) and nginx from the Debian package on loopback ports, with the example
configuration rewritten only for addresses, certificate and log paths.  Slow
clients are bounded (a few seconds, loopback only).
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .queue_support import ROOT, free_port, process_env

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
TOKEN = "Zq8wXv3LmN5pR7tY9uB1cD2eFg"
SLOW_SECONDS = 8

needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (Debian nginx)")


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listens on {port}")


def site_config(tmp: Path, upstream: int, http_port: int, https_port: int) -> str:
    """deploy/nginx.conf with loopback ports, a scratch certificate and log file."""
    text = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    swaps = {
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream};",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "/etc/nginx/tls/minping.crt": str(tmp / "minping.crt"),
        "/etc/nginx/tls/minping.key": str(tmp / "minping.key"),
        "/var/log/nginx/minping.access.log": str(tmp / "access.log"),
    }
    for old, new in swaps.items():
        assert old in text, f"deploy/nginx.conf no longer has {old!r}: update this test"
        text = text.replace(old, new)
    return text


def start_nginx(tmp: Path, upstream: int) -> tuple[subprocess.Popen[bytes], int]:
    http_port, https_port = free_port(), free_port()
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-nodes",
            "-newkey",
            "rsa:2048",
            "-subj",
            "/CN=localhost",
            "-days",
            "1",
            "-keyout",
            str(tmp / "minping.key"),
            "-out",
            str(tmp / "minping.crt"),
        ],
        check=True,
        capture_output=True,
    )
    (tmp / "minping.conf").write_text(site_config(tmp, upstream, http_port, https_port))
    user = "user root root;\n" if os.geteuid() == 0 else ""
    temp = " ".join(
        f"{kind}_temp_path {tmp / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp / "nginx.conf").write_text(
        f"{user}worker_processes 1;\npid {tmp / 'nginx.pid'};\n"
        f"error_log {tmp / 'error.log'} warn;\n"
        "events { worker_connections 512; }\n"
        f"http {{\n  {temp}\n  access_log off;\n  include {tmp / 'minping.conf'};\n}}\n"
    )
    with (tmp / "nginx.out").open("ab") as out:
        process = subprocess.Popen(
            [
                NGINX,
                "-p",
                str(tmp),
                "-c",
                str(tmp / "nginx.conf"),
                "-e",
                str(tmp / "error.log"),
                "-g",
                "daemon off;",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_port(https_port, 15)
    except AssertionError:
        process.kill()
        process.wait()
        raise AssertionError((tmp / "nginx.out").read_text()) from None
    return process, https_port


def start_gunicorn(tmp: Path, threads: int = 1) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = process_env(
        f"sqlite:///{tmp / 'site.sqlite'}",
        {"MINPING_PROXY_FIX": "1", "MINPING_SECURE_COOKIES": "0", "MINPING_EMBEDDED_WORKER": "0"},
    )
    with (tmp / "gunicorn.log").open("ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from survey.cli import main; main()",
                "serve",
                "--prod",
                "--workers",
                "1",
                "--threads",
                str(threads),
                "--port",
                str(port),
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    wait_port(port, 90)
    return process, port


def slow_client(port: int, tls: bool, kind: str, stop: threading.Event) -> None:
    """Send a request a few bytes at a time until ``stop`` (or SLOW_SECONDS)."""
    try:
        raw = socket.create_connection(("127.0.0.1", port), timeout=SLOW_SECONDS + 5)
    except OSError:
        return
    sock: socket.socket = raw
    try:
        if tls:
            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            sock = context.wrap_socket(raw, server_hostname="localhost")
        if kind == "headers":
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
            chunk = b"X-Slow: a\r\n"
        else:
            sock.sendall(
                b"POST /auth/login HTTP/1.1\r\nHost: localhost\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"
            )
            chunk = b"username=aaaa&"
        deadline = time.monotonic() + SLOW_SECONDS
        while not stop.is_set() and time.monotonic() < deadline:
            sock.sendall(chunk)
            stop.wait(0.5)
    except OSError:
        pass  # the server gave up on us: that is the point
    finally:
        sock.close()
        raw.close()


def get(port: int, tls: bool, path: str = "/healthz", timeout: float = 3.0):  # type: ignore[no-untyped-def]
    if tls:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=timeout, context=context
        )
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    started = time.monotonic()
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    return response, time.monotonic() - started


def with_slow_clients(
    port: int, tls: bool, kinds: list[str], tries: int = 5
) -> list[tuple[bool, float]]:
    """Start slow clients, then try normal requests; ``(answered 200, seconds)`` each."""
    stop = threading.Event()
    threads = [
        threading.Thread(target=slow_client, args=(port, tls, kind, stop), daemon=True)
        for kind in kinds
    ]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    outcomes = []
    try:
        for _ in range(tries):
            try:
                response, seconds = get(port, tls)
                outcomes.append((response.status == 200, seconds))
            except OSError:  # timed out: the site is down for this client
                outcomes.append((False, 3.0))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=SLOW_SECONDS + 10)
    return outcomes


@needs_nginx
def test_slow_clients_behind_nginx_do_not_take_the_site_down(tmp_path):
    gunicorn, upstream = start_gunicorn(tmp_path)
    nginx = None
    try:
        wait_ready = get(upstream, tls=False, timeout=60)  # the worker has booted
        assert wait_ready[0].status == 200
        direct = with_slow_clients(upstream, tls=False, kinds=["headers"], tries=1)
        assert direct == [(False, 3.0)], "one slow client blocks a lone sync worker"
        nginx, https_port = start_nginx(tmp_path, upstream)
        behind = with_slow_clients(https_port, tls=True, kinds=["headers", "body", "body"])
        print(f"behind nginx with 3 slow clients: {[round(s, 3) for _, s in behind]} s")
        assert all(ok for ok, _ in behind), behind
        assert max(seconds for _, seconds in behind) < 2.0
        # nginx's request id reaches the app and comes back; its log has no token
        response, _ = get(https_port, tls=True, path=f"/s/{TOKEN}")
        request_id = response.getheader("X-Request-ID")
        assert request_id and len(request_id) == 32
        nginx.send_signal(signal.SIGQUIT)  # graceful: flushes the access log
        nginx.wait(timeout=15)
        access = (tmp_path / "access.log").read_text()
        assert "/s/<token>" in access and request_id in access
        assert TOKEN not in access
        assert TOKEN not in (tmp_path / "gunicorn.log").read_text()
    finally:
        if nginx is not None and nginx.poll() is None:
            nginx.kill()
            nginx.wait(timeout=10)
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=30)


def test_without_nginx_threads_limit_what_three_slow_clients_do(tmp_path):
    """``serve --prod``'s default (threads, read timeout) serves on with 3 slow clients."""
    gunicorn, port = start_gunicorn(tmp_path, threads=4)
    try:
        assert get(port, tls=False, timeout=60)[0].status == 200  # booted
        outcomes = with_slow_clients(port, tls=False, kinds=["headers", "body", "body"])
        print(f"gunicorn alone (1 worker x 4 threads), 3 slow clients: {outcomes}")
        assert all(ok for ok, _ in outcomes), outcomes
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=30)


def test_the_documented_configuration_is_the_tested_file(repo_root):
    conf = (repo_root / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    doc = (repo_root / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert f"```nginx\n{conf}```" in doc
    assert "docs/deploy.md" in (repo_root / "README.md").read_text(encoding="utf-8")

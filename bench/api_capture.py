"""Section ``api_capture``: POST /api/leads/ through a real WSGI server, over loopback.

gunicorn serves the app as ``make serve`` does (2 workers, 4 threads each, background jobs on the
in-process thread pool) against a fresh database; a few client threads send a bounded,
time-limited number of capture requests (10 % of them for a person already captured, so the
merge path is measured too) with an API token. Reported: latency percentiles of the answered
requests, requests per second, and the status codes seen. Loopback only.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.harness import (
    REPO_ROOT,
    database,
    postgres_unreachable,
    run_worker,
    scaled,
)
from bench.measure import percentiles

REQUESTS = 2000
CLIENT_THREADS = 4
TIME_LIMIT_S = 60
SERVER_ARGS = ("--workers", "2", "--threads", "4")
REPEAT_SHARE = 0.1


def run() -> dict[str, Any]:
    total = scaled(REQUESTS, minimum=50)
    result: dict[str, Any] = {
        "what": f"POST /api/leads/ over loopback, {CLIENT_THREADS} client threads, "
        f"gunicorn {' '.join(SERVER_ARGS)}; latency in ms",
        "requests_planned": total,
        "time_limit_s": TIME_LIMIT_S,
    }
    for engine in ("sqlite", "postgresql"):
        if engine == "postgresql" and (reason := postgres_unreachable()):
            result[engine] = {"skipped": reason}
            continue
        with database(engine, "api_capture") as env:
            prepared = run_worker("bench.api_capture:prepare", env)
            if "error" in prepared:
                result[engine] = prepared
                continue
            measured = _serve_and_load(env, prepared["token"], total)
            if "error" not in measured:
                measured["stored"] = run_worker("bench.api_capture:stored", env)
            result[engine] = measured
    return result


# --- the server and the load ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _gunicorn() -> list[str]:
    local = Path(sys.executable).with_name("gunicorn")
    return [str(local)] if local.exists() else [sys.executable, "-m", "gunicorn"]


def _serve_and_load(env: dict[str, str], token: str, total: int) -> dict[str, Any]:
    port = _free_port()
    server_env = {**env, "LEADPACT_JOBS": "thread", "LEADPACT_LOG_LEVEL": "ERROR"}
    log = Path(env["LEADPACT_VAR_DIR"]).parent / "gunicorn.log"
    with log.open("w") as log_file:
        server = subprocess.Popen(
            [
                *_gunicorn(),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                *SERVER_ARGS,
                "--log-level",
                "warning",
            ],
            cwd=REPO_ROOT,
            env=server_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            if not _wait_until_up(port, server):
                return {"error": "gunicorn did not start", "log": log.read_text()[-2000:]}
            _warm_up(port, token)
            return _load(port, token, total)
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_until_up(port: int, server: subprocess.Popen, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return False
        with contextlib.suppress(OSError):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status < 500:
                conn.close()
                return True
        time.sleep(0.2)
    return False


def _warm_up(port: int, token: str, requests: int = 16) -> None:
    """Load the code of each gunicorn worker before timing: a few authenticated reads."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(requests):
        conn.request("GET", "/api/leads/?size=1", headers={"Authorization": f"Bearer {token}"})
        conn.getresponse().read()
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.close()


def _payloads(total: int) -> list[dict[str, Any]]:
    from bench.synthetic import SyntheticLeads

    rng = random.Random(5)
    people = list(SyntheticLeads(seed=5).people(total))
    bodies = []
    for i, person in enumerate(people):
        if i > 20 and rng.random() < REPEAT_SHARE:
            person = people[rng.randrange(i)]  # the same person again: a merge
        touch: dict[str, Any] = {
            "kind": "form_fill",
            "channel": person.channel,
            "url": "https://www.sellwithus.example/sell-online/sign-up",
            "idempotency_key": f"bench-{i}",
        }
        if person.campaign:
            touch.update(utm_source="bench", utm_medium="cpc", utm_campaign=person.campaign)
        bodies.append({**person.capture_fields(), "touch": touch})
    return bodies


def _load(port: int, token: str, total: int) -> dict[str, Any]:
    bodies = _payloads(total)
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    deadline = time.monotonic() + TIME_LIMIT_S
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Connection": "close",
    }

    def client() -> None:
        # A connection per request, as from many browsers and integrations: the server's
        # workers share the load instead of one worker keeping every kept-alive connection.
        while time.monotonic() < deadline:
            i = next(counter)
            if i >= total:
                break
            started = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                conn.request("POST", "/api/leads/", body=json.dumps(bodies[i]), headers=headers)
                response = conn.getresponse()
                response.read()
                status = str(response.status)
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
            finally:
                conn.close()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                statuses[status] += 1
                if status in ("200", "201"):
                    latencies.append(elapsed)

    threads = [threading.Thread(target=client) for _ in range(CLIENT_THREADS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    sent = sum(statuses.values())
    return {
        "requests": sent,
        "ok": len(latencies),
        "statuses": dict(statuses),
        "seconds": round(seconds, 2),
        "requests_per_s": round(sent / seconds, 1) if seconds else None,
        "latency_ms": percentiles(latencies),
        "stopped_by_time_limit": sent < total,
    }


# --- in the worker -------------------------------------------------------------------------


def prepare() -> dict[str, Any]:
    """An API user with a token, and the campaigns the requests name."""
    from bench.synthetic import CAMPAIGN_CODES
    from leadpact.accounts.models import Role
    from leadpact.accounts.services import api_token_create, user_create
    from leadpact.campaigns.services import campaign_create

    user = user_create(username="bench-api", password=None, role=Role.MARKETING)
    for channel, codes in CAMPAIGN_CODES.items():
        for code in codes:
            campaign_create(actor=user, values={"name": code, "code": code, "channel": channel})
    _, raw = api_token_create(user=user, name="benchmark")
    return {"token": raw, "pid": os.getpid()}


def stored() -> dict[str, Any]:
    from leadpact.campaigns.models import Touch
    from leadpact.leads.models import Lead, TimelineEvent

    return {
        "leads": Lead.objects.count(),
        "touches": Touch.objects.count(),
        "timeline_events": TimelineEvent.objects.count(),
    }

"""The benchmark machinery: find sections, run them, give each measurement a database of its own.

Nothing here imports Django. A section's ``run()`` calls ``in_database(target, engine)``, which
creates a fresh database (a temporary SQLite file, or a PostgreSQL database named after the
section), points ``LEADPACT_DB``/``DATABASE_URL`` at it, migrates it and calls ``target`` in a
child process (``bench.worker``), then drops the database. Settings are read once at start, so a
child process is the only clean way to give Django another database.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import pkgutil
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("LEADPACT_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
SCALE_ENV = "LEADPACT_BENCH_SCALE"
HELPERS = {"harness", "worker", "measure", "seed", "synthetic", "tests"}
WORKER_TIMEOUT = 900


# --- sections ------------------------------------------------------------------------------


def discover() -> dict[str, Callable[[], dict[str, Any]]]:
    """Every module of this package that defines ``run()``, by name, in alphabetical order."""
    import bench

    found: dict[str, Callable[[], dict[str, Any]]] = {}
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda i: i.name):
        if info.name.startswith("_") or info.name in HELPERS:
            continue
        try:
            module = importlib.import_module(f"bench.{info.name}")
        except Exception as exc:  # reported as that section's error, the others still run
            found[info.name] = _broken(info.name, exc)
            continue
        run = getattr(module, "run", None)
        if callable(run):
            found[info.name] = run
    return found


def _broken(name: str, exc: Exception) -> Callable[[], dict[str, Any]]:
    message = f"bench/{name}.py does not import: {type(exc).__name__}: {exc}"

    def run() -> dict[str, Any]:
        return {"error": message}

    return run


def run_sections(names: list[str], *, scale: float = 1.0) -> dict[str, Any]:
    """Run ``names`` one after another; a section that fails reports its error, not a crash."""
    os.environ[SCALE_ENV] = repr(scale)
    sections = discover()
    results: dict[str, Any] = {"meta": meta(scale)}
    for name in names:
        started = time.perf_counter()
        print(f"bench: {name} …", file=sys.stderr, flush=True)
        try:
            result = sections[name]()
        except Exception as exc:  # a broken section must not hide the others' results
            result = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        result["wall_seconds"] = round(time.perf_counter() - started, 1)
        results[name] = result
        print(f"bench: {name} done in {result['wall_seconds']} s", file=sys.stderr, flush=True)
    return results


def scale() -> float:
    try:
        return float(os.environ.get(SCALE_ENV, "1"))
    except ValueError:
        return 1.0


def scaled(n: int, *, minimum: int = 1) -> int:
    """``n`` times the ``--scale`` of this run, at least ``minimum``."""
    return max(minimum, int(n * scale()))


# --- databases -----------------------------------------------------------------------------


def postgres_unreachable() -> str | None:
    """Why PostgreSQL can't be used for benchmarks, or ``None`` when it can."""
    try:
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return f"PostgreSQL unreachable at {PG_SERVER}: {str(exc).strip().splitlines()[0]}"
    return None


@contextlib.contextmanager
def database(engine: str, label: str) -> Iterator[dict[str, str]]:
    """A fresh, empty database for one measurement; yields the environment that points at it."""
    workdir = Path(tempfile.mkdtemp(prefix=f"leadpact-bench-{label}-"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "LEADPACT_DB")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "LEADPACT_VAR_DIR": str(workdir / "var"),
            "LEADPACT_SECRET_KEY": env.get("LEADPACT_SECRET_KEY") or "bench-only-secret",
            "LEADPACT_JOBS": "sync",
            "LEADPACT_FAST_PASSWORD_HASHER": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
        }
    )
    name = f"lp_bench_{label}_{os.getpid()}"  # concurrent runs never share a database
    try:
        if engine == "sqlite":
            env["LEADPACT_DB"] = str(workdir / "bench.sqlite3")
        elif engine == "postgresql":
            _pg_recreate(name)
            env["DATABASE_URL"] = f"{PG_SERVER}/{name}"
        else:
            raise ValueError(f"unknown database engine {engine!r}")
        yield env
    finally:
        if engine == "postgresql":
            with contextlib.suppress(Exception):
                _pg_drop(name)
        shutil.rmtree(workdir, ignore_errors=True)


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def _pg_drop(name: str) -> None:
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_recreate(name: str) -> None:
    _pg_drop(name)
    _pg_admin(f'CREATE DATABASE "{name}"')


def run_worker(
    target: str, env: dict[str, str], *, timeout: float = WORKER_TIMEOUT, **kwargs: Any
) -> dict[str, Any]:
    """Call ``target`` ("module:function") with ``kwargs`` in a child process using ``env``."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    command = [sys.executable, "-m", "bench.worker", target, json.dumps(kwargs), str(out)]
    try:
        done = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-15:])
            return {"error": f"{target} failed (exit {done.returncode})", "stderr": tail}
        return json.loads(out.read_text())
    except subprocess.TimeoutExpired:
        return {"error": f"{target} did not finish within {timeout:.0f} s"}
    finally:
        out.unlink(missing_ok=True)


def in_database(
    target: str, engine: str, *, label: str, timeout: float = WORKER_TIMEOUT, **kwargs: Any
) -> dict[str, Any]:
    """Run ``target`` against a fresh database of ``engine``; PostgreSQL is skipped with the
    reason when it can't be reached."""
    if engine == "postgresql":
        reason = postgres_unreachable()
        if reason:
            return {"skipped": reason}
    with database(engine, label) as env:
        return run_worker(target, env, timeout=timeout, **kwargs)


# --- what the results were measured on -----------------------------------------------------


def meta(scale_factor: float) -> dict[str, Any]:
    import psutil

    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "host": platform.node(),
            "platform": platform.platform(),
            "cpu": cpu,
            "cores": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
        "python": platform.python_version(),
        "database": {"sqlite": sqlite3.sqlite_version, "postgresql": _pg_version()},
        "git_commit": _git_commit(),
        "scale": scale_factor,
    }


def _pg_version() -> str:
    reason = postgres_unreachable()
    if reason:
        return reason
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", connect_timeout=3) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return f"{row[0]} at {PG_SERVER}" if row else "unknown"


def _git_commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    dirty = ""
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=5,
        check=False,
    )
    if status.stdout.strip():
        dirty = " (with uncommitted changes)"
    return done.stdout.strip() + dirty

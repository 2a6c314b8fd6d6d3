"""Real Redis and PostgreSQL servers for the cluster tests, from Debian's packages.

``scripts/install-cluster-servers.sh`` installs what is missing (CI runs only ``pytest``, so
the tests install it themselves). Each server runs on a free loopback port, in a temporary
folder, and is stopped when the session ends. PostgreSQL refuses to run as root: as root,
the server runs as the ``postgres`` user the Debian package creates.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
INSTALL = REPO / "scripts" / "install-cluster-servers.sh"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited ({proc.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on port {port} in 30 s")


def install() -> None:
    """Install the servers and scrapy-redis when missing; a clear failure if that fails."""
    if _postgres_bin() and shutil.which("redis-server") and _has_scrapy_redis():
        return
    env = {**os.environ, "PYTHON": sys.executable}
    done = subprocess.run(
        ["bash", str(INSTALL)], env=env, capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0 or not _postgres_bin() or not shutil.which("redis-server"):
        raise RuntimeError(
            f"{INSTALL.name} could not install Redis and PostgreSQL:\n{done.stderr[-2000:]}"
        )


def _has_scrapy_redis() -> bool:
    try:
        import scrapy_redis  # noqa: F401
    except ImportError:
        return False
    return True


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@dataclass
class Servers:
    """A running Redis and PostgreSQL: URLs to hand ``dcs crawl --frontier/--state``."""

    folder: Path
    redis_port: int = 0
    pg_port: int = 0
    procs: list[subprocess.Popen] = field(default_factory=list)
    _runas: list[str] = field(default_factory=list)
    _pg_data: Path | None = None
    _databases: itertools.count = field(default_factory=lambda: itertools.count(1))
    _redis_dbs: itertools.count = field(default_factory=lambda: itertools.count(1))

    def start(self) -> Servers:
        install()
        self._start_redis()
        self._start_postgres()
        return self

    def _start_redis(self) -> None:
        self.redis_port = free_port()
        folder = self.folder / "redis"
        folder.mkdir()
        proc = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
             "--dir", str(folder), "--save", "", "--appendonly", "no", "--databases", "64"],
            stdout=open(folder / "redis.log", "wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.procs.append(proc)
        _wait_for_port(self.redis_port, "redis-server", proc)

    def _start_postgres(self) -> None:
        bin_dir = _postgres_bin()
        self.pg_port = free_port()
        data = self.folder / "pgdata"
        sockets = self.folder / "pgsock"
        sockets.mkdir()
        if os.geteuid() == 0:  # initdb and postgres refuse root
            user = pwd.getpwnam("postgres")
            os.chmod(self.folder, 0o755)
            os.chown(sockets, user.pw_uid, user.pw_gid)
            data.mkdir()
            os.chown(data, user.pw_uid, user.pw_gid)
            self._runas = ["runuser", "-u", "postgres", "--"]
        subprocess.run(
            [*self._runas, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust",
             "-U", "dcs", "--no-sync", "-E", "UTF8"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        log = self.folder / "pgsock" / "postgres.log"
        subprocess.run(
            [*self._runas, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w",
             "-t", "60", "-o",
             f"-p {self.pg_port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
             " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
             "start"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        self._pg_data = data
        _wait_for_port(self.pg_port, "postgres")

    def database(self) -> str:
        """A new empty database: its postgresql:// URL."""
        import psycopg

        name = f"dcs_{next(self._databases)}"
        with psycopg.connect(self.pg_url("postgres"), autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name}")
        return self.pg_url(name)

    def pg_url(self, database: str) -> str:
        return f"postgresql://dcs@127.0.0.1:{self.pg_port}/{database}"

    def redis_url(self) -> str:
        """A Redis database of its own (one of 64): its redis:// URL."""
        return f"redis://127.0.0.1:{self.redis_port}/{next(self._redis_dbs) % 64}"

    def stop(self) -> None:
        if self._pg_data is not None:
            subprocess.run(
                [*self._runas, str(_postgres_bin() / "pg_ctl"), "-D", str(self._pg_data),
                 "-m", "immediate", "-w", "stop"],
                capture_output=True, timeout=60,
            )  # fmt: skip
        for proc in self.procs:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_servers() -> Servers:
    folder = Path(tempfile.mkdtemp(prefix="dcs-cluster-servers-"))
    servers = Servers(folder)
    try:
        return servers.start()
    except BaseException:
        servers.stop()
        raise

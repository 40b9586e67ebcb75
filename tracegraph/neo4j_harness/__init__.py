"""Provision a real Neo4j server for tests and local runs, without Docker.

Order tried by :func:`provision_neo4j`:

1. An explicit server from the environment: ``TRACEGRAPH_NEO4J_URI`` plus
   ``TRACEGRAPH_NEO4J_USER`` (default ``neo4j``), ``TRACEGRAPH_NEO4J_PASSWORD``
   and ``TRACEGRAPH_NEO4J_DATABASE`` (default ``neo4j``). If the URI is set, it
   is used or the call fails: no silent fallback.
2. testcontainers' Neo4j module, only when a Docker engine answers and the
   ``testcontainers`` package is importable (image: ``TRACEGRAPH_NEO4J_IMAGE``,
   default ``neo4j:5.26``).
3. The in-process Neo4j of ``org.neo4j.test:neo4j-harness`` (see ``pom.xml`` and
   ``Launcher.java`` beside this file): Maven copies its jars once into
   ``${XDG_CACHE_HOME:-~/.cache}/tracegraph/neo4j-harness/<version>/lib`` and a
   JVM serves Bolt on 127.0.0.1. Needs ``mvn`` and a Java 17+ ``java``
   (``TRACEGRAPH_NEO4J_JAVA``, else ``$JAVA_HOME/bin/java``, else ``java`` on
   PATH; ``TRACEGRAPH_MVN`` overrides ``mvn``).
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import fcntl
import hashlib
import os
import queue
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from neo4j import Driver

__all__ = [
    "LAUNCHER",
    "POM",
    "Neo4jServer",
    "Neo4jUnavailableError",
    "cache_dir",
    "ensure_jars",
    "harness_version",
    "provision_neo4j",
    "start_harness",
]

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
LAUNCHER = HERE / "Launcher.java"

READY_PREFIX = "TRACEGRAPH_NEO4J_READY "
PASSWORD_ENV = "TRACEGRAPH_NEO4J_HARNESS_PASSWORD"
#: A young generation of 512 MiB: a load's transactions (thousands of rows each) die young
#: instead of being promoted and collected again and again (GC took a fifth of the JVM's
#: CPU on a 1,500-turn first load with the JVM's own sizing of a 1 GiB heap).
DEFAULT_JVM_ARGS: tuple[str, ...] = ("-Xms1g", "-Xmx2g", "-Xmn512m",
                                     "-XX:+ExitOnOutOfMemoryError")
#: Neo4j's page cache: the store of a 1,500-turn rollout (~200 MiB) stays in memory.
DEFAULT_PAGE_CACHE = "512m"
_MARKER = "lib.complete"
_STDERR_TAIL = 60


class Neo4jUnavailableError(RuntimeError):
    """No way of getting a Neo4j server worked; the message lists why for each."""


def _noop() -> None:
    return None


@dataclass(frozen=True)
class Neo4jServer:
    """A running Neo4j server reachable over Bolt."""

    uri: str
    user: str
    password: str = field(repr=False)
    database: str = "neo4j"
    source: str = "harness"  # "env" | "testcontainers" | "harness"
    stop: Callable[[], None] = field(default=_noop, repr=False, compare=False)
    #: The harness JVM's process id (``None`` for servers that are not ours).
    pid: int | None = field(default=None, compare=False)

    @property
    def auth(self) -> tuple[str, str] | None:
        """Driver auth tuple, or None for a server started without authentication."""
        return (self.user, self.password) if self.password else None

    def driver(self, **config: Any) -> Driver:
        """A new driver for this server (the caller closes it)."""
        from neo4j import GraphDatabase

        return GraphDatabase.driver(self.uri, auth=self.auth, **config)


# --------------------------------------------------------------------------- cache


def harness_version(pom: Path = POM) -> str:
    """The Neo4j version pinned in ``pom.xml`` (property ``neo4j.version``)."""
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    node = ET.parse(pom).getroot().find("m:properties/m:neo4j.version", ns)
    if node is None or not (node.text or "").strip():
        raise RuntimeError(f"{pom}: no <neo4j.version> property")
    return (node.text or "").strip()


def cache_dir(version: str | None = None) -> Path:
    """``${XDG_CACHE_HOME:-~/.cache}/tracegraph/neo4j-harness/<version>``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tracegraph" / "neo4j-harness" / (version or harness_version())


def _sha256(*paths: Path, extra: str = "") -> str:
    h = hashlib.sha256(extra.encode())
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _tail(text: str, n: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-n:])


def ensure_jars(*, mvn: str | None = None, timeout: float = 1200) -> Path:
    """Copy the harness's jars into the cache (once) and return the ``lib`` directory.

    A marker file holding the pom's hash is written after a complete copy, so later
    calls return at once; a changed pom or an interrupted copy triggers a new copy.
    """
    root = cache_dir()
    lib = root / "lib"
    marker = root / _MARKER
    digest = _sha256(POM)
    with _locked(root):
        if marker.is_file() and marker.read_text().strip() == digest and lib.is_dir():
            return lib
        mvn_exe = mvn or os.environ.get("TRACEGRAPH_MVN") or shutil.which("mvn")
        if not mvn_exe:
            raise RuntimeError("Neo4j harness: `mvn` not found on PATH (set TRACEGRAPH_MVN)")
        partial = root / "lib.partial"
        shutil.rmtree(partial, ignore_errors=True)
        marker.unlink(missing_ok=True)
        cmd = [
            mvn_exe, "-q", "-B", "-Dstyle.color=never", "-f", str(POM),
            "dependency:copy-dependencies", f"-DoutputDirectory={partial}",
        ]  # fmt: skip
        try:
            proc = subprocess.run(
                cmd, cwd=root, stdin=subprocess.DEVNULL, capture_output=True,
                text=True, timeout=timeout, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"Neo4j harness: mvn timed out after {timeout:.0f}s") from exc
        if proc.returncode != 0 or not any(partial.glob("neo4j-harness-*.jar")):
            raise RuntimeError(
                f"Neo4j harness: `{' '.join(cmd)}` failed (exit {proc.returncode}):\n"
                + _tail(proc.stdout + "\n" + proc.stderr)
            )
        shutil.rmtree(lib, ignore_errors=True)
        partial.rename(lib)
        marker.write_text(digest + "\n")
        return lib


def _find_java(java: str | None) -> str:
    if java:
        return java
    if env := os.environ.get("TRACEGRAPH_NEO4J_JAVA"):
        return env
    if (home := os.environ.get("JAVA_HOME")) and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    if found := shutil.which("java"):
        return found
    raise RuntimeError("Neo4j harness: no `java` found (set TRACEGRAPH_NEO4J_JAVA or JAVA_HOME)")


def _launcher_command(java: str, lib: Path) -> list[str]:
    """``java ... Launcher`` from classes compiled once into the cache, else source mode.

    Running ``Launcher.java`` directly recompiles it against 240 jars on every start
    (~5 s); a cached ``javac`` build keyed on the source and the JDK avoids that.
    """
    classpath = f"{lib}/*"
    javac = Path(java).resolve().parent / "javac"
    if javac.is_file():
        key = _sha256(LAUNCHER, extra=str(javac.resolve()))[:16]
        classes = lib.parent / f"classes-{key}"
        if not (classes / "Launcher.class").is_file():
            with _locked(lib.parent):
                if not (classes / "Launcher.class").is_file():
                    tmp = Path(tempfile.mkdtemp(prefix="classes.", dir=lib.parent))
                    proc = subprocess.run(
                        [str(javac), "-nowarn", "-d", str(tmp), "-cp", classpath, str(LAUNCHER)],
                        stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False,
                    )  # fmt: skip
                    if proc.returncode == 0:
                        shutil.rmtree(classes, ignore_errors=True)
                        tmp.rename(classes)
                    else:
                        shutil.rmtree(tmp, ignore_errors=True)
        if (classes / "Launcher.class").is_file():
            return [java, "-cp", f"{classes}{os.pathsep}{classpath}", "Launcher"]
    return [java, "-cp", classpath, str(LAUNCHER)]


# --------------------------------------------------------------------------- harness


def _pump(stream: IO[str], sink: Callable[[str], None]) -> None:
    with contextlib.suppress(ValueError, OSError):
        for line in stream:
            sink(line.rstrip("\n"))


def _verify(server: Neo4jServer, timeout: float) -> None:
    """Run ``RETURN 1`` on the server's database, retrying until ``timeout``."""
    from neo4j.exceptions import AuthError, Neo4jError

    deadline = time.monotonic() + timeout
    while True:
        try:
            with server.driver(connection_timeout=10) as driver:
                driver.verify_connectivity()
                driver.execute_query("RETURN 1", database_=server.database)
            return
        except (AuthError, Neo4jError):
            raise
        except Exception:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.5)


def start_harness(
    *,
    auth: bool = True,
    java: str | None = None,
    timeout: float = 180,
    port: int = 0,
    jvm_args: Sequence[str] = DEFAULT_JVM_ARGS,
    password: str | None = None,
    data_dir: Path | None = None,
    page_cache: str = DEFAULT_PAGE_CACHE,
) -> Neo4jServer:
    """Start an in-process Neo4j (neo4j-harness) in a child JVM and return it once usable.

    ``port=0`` lets the server bind a free 127.0.0.1 port itself (no pick-then-bind race);
    the bound port is read from the launcher's ready line. ``timeout`` covers the JVM
    start only (a first ``mvn`` download has its own, longer limit). Call ``stop()`` on
    the result; it is also registered with :mod:`atexit`, and the JVM exits by itself
    when this process dies (its stdin closes).

    ``data_dir`` keeps the databases in that directory instead of a temporary one:
    it outlives the server, and a server started again on it (also after the JVM
    was killed) recovers and serves the same data. ``page_cache`` is Neo4j's page cache
    size (``512m``, ``1g``). ``pid`` on the result is the JVM's process id.
    """
    lib = ensure_jars()
    java_exe = _find_java(java)
    cmd = _launcher_command(java_exe, lib)
    workdir = Path(tempfile.mkdtemp(prefix="tracegraph-neo4j-"))
    pw = (password or "tg-" + secrets.token_hex(16)) if auth else ""
    env = dict(os.environ)
    env.pop(PASSWORD_ENV, None)
    if auth:
        env[PASSWORD_ENV] = pw
    # The launcher deletes --dir when it exits, even when this process was killed.
    args = ["--port", str(port), "--auth" if auth else "--no-auth", "--dir", str(workdir)]
    if data_dir is not None:
        args += ["--data", str(Path(data_dir).resolve())]
    args += ["--pagecache", page_cache]
    full_cmd = [cmd[0], *jvm_args, *cmd[1:], *args]

    try:
        proc = subprocess.Popen(
            full_cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=env, cwd=lib.parent, start_new_session=True,
        )  # fmt: skip
    except OSError as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        raise RuntimeError(f"Neo4j harness: cannot run {java_exe!r}: {exc}") from exc
    assert proc.stdout is not None and proc.stderr is not None
    err_tail: collections.deque[str] = collections.deque(maxlen=_STDERR_TAIL)
    ready: queue.Queue[str] = queue.Queue()
    threads = [
        threading.Thread(target=_pump, args=(proc.stdout, ready.put), daemon=True),
        threading.Thread(target=_pump, args=(proc.stderr, err_tail.append), daemon=True),
    ]
    for t in threads:
        t.start()

    lock = threading.Lock()
    stopped = False

    def stop() -> None:
        nonlocal stopped
        with lock:
            if stopped:
                return
            stopped = True
        with contextlib.suppress(OSError, ValueError):
            assert proc.stdin is not None
            proc.stdin.close()  # the launcher exits cleanly on end-of-file
        if proc.poll() is None:
            for sig, wait in ((None, 60.0), (signal.SIGTERM, 30.0), (signal.SIGKILL, 10.0)):
                if sig is not None:
                    with contextlib.suppress(ProcessLookupError):
                        proc.send_signal(sig)
                try:
                    proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        for t in threads:
            t.join(timeout=5)
        shutil.rmtree(workdir, ignore_errors=True)

    atexit.register(stop)

    def fail(reason: str) -> RuntimeError:
        stop()
        tail = "\n".join(err_tail) or "(no output on stderr)"
        return RuntimeError(
            f"Neo4j harness: {reason}\ncommand: {' '.join(full_cmd)}\nlast stderr lines:\n{tail}"
        )

    deadline = time.monotonic() + timeout
    uri = None
    while uri is None:
        try:
            line = ready.get(timeout=0.25)
        except queue.Empty:
            if proc.poll() is not None:
                reason = f"the JVM exited with code {proc.returncode} before it was ready"
                raise fail(reason) from None
            if time.monotonic() > deadline:
                raise fail(f"not ready within {timeout:.0f}s") from None
            continue
        if line.startswith(READY_PREFIX):
            uri = line[len(READY_PREFIX) :].strip()

    server = Neo4jServer(uri=uri, user="neo4j", password=pw, source="harness", stop=stop,
                         pid=proc.pid)
    try:
        _verify(server, timeout=max(5.0, deadline - time.monotonic()))
    except Exception as exc:
        raise fail(f"started but did not answer at {uri}: {exc!r}") from exc
    return server


# --------------------------------------------------------------------------- provisioning


def _from_env() -> Neo4jServer | None:
    uri = os.environ.get("TRACEGRAPH_NEO4J_URI")
    if not uri:
        return None
    server = Neo4jServer(
        uri=uri,
        user=os.environ.get("TRACEGRAPH_NEO4J_USER", "neo4j"),
        password=os.environ.get("TRACEGRAPH_NEO4J_PASSWORD", ""),
        database=os.environ.get("TRACEGRAPH_NEO4J_DATABASE") or "neo4j",
        source="env",
    )
    try:
        _verify(server, timeout=30)
    except Exception as exc:
        raise Neo4jUnavailableError(
            f"TRACEGRAPH_NEO4J_URI={uri} is set but the server did not answer: {exc!r}"
        ) from exc
    return server


def _docker_answers(timeout: float = 10) -> bool:
    """True when a Docker engine answers (``docker info``, else the docker SDK's ping)."""
    if docker_cli := shutil.which("docker"):
        try:
            proc = subprocess.run(
                [docker_cli, "info"], stdin=subprocess.DEVNULL, capture_output=True,
                timeout=timeout, check=False,
            )  # fmt: skip
        except (subprocess.TimeoutExpired, OSError):
            return False
        return proc.returncode == 0
    try:
        import docker  # type: ignore[import-untyped, import-not-found, unused-ignore]

        client = docker.from_env(timeout=int(timeout))
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def _from_testcontainers() -> Neo4jServer:
    from testcontainers.neo4j import (  # type: ignore[import-untyped, import-not-found, unused-ignore]
        Neo4jContainer,
    )

    image = os.environ.get("TRACEGRAPH_NEO4J_IMAGE", "neo4j:5.26")
    password = "tg-" + secrets.token_hex(16)
    container = Neo4jContainer(image, password=password)
    container.start()
    server = Neo4jServer(
        uri=container.get_connection_url(),
        user=getattr(container, "username", None) or "neo4j",
        password=getattr(container, "password", None) or password,
        source="testcontainers",
        stop=container.stop,
    )
    try:
        _verify(server, timeout=60)
    except Exception:
        container.stop()
        raise
    return server


@contextlib.contextmanager
def provision_neo4j(*, harness_timeout: float = 180) -> Iterator[Neo4jServer]:
    """Yield a running Neo4j (env, then testcontainers, then the harness); stop it after.

    Raises :class:`Neo4jUnavailableError` naming each way tried and why it failed.
    A server given by ``TRACEGRAPH_NEO4J_URI`` is not stopped (it is not ours).
    """
    server = _from_env()
    reasons: list[str] = []
    if server is None:
        if _docker_answers():
            try:
                server = _from_testcontainers()
            except Exception as exc:
                reasons.append(f"testcontainers: {exc!r}")
        else:
            reasons.append("testcontainers: no Docker engine answers")
    if server is None:
        try:
            server = start_harness(timeout=harness_timeout)
        except Exception as exc:
            reasons.append(f"harness: {exc}")
    if server is None:
        raise Neo4jUnavailableError("no Neo4j server could be provisioned:\n" + "\n".join(reasons))
    try:
        yield server
    finally:
        server.stop()

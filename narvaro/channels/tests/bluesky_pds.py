"""Real AT Protocol servers on loopback for the Bluesky connector tests (tests/servers).

Both fixtures are session-scoped: they install the servers if needed
(`tests/servers/pds_install.sh`), start `tests/servers/pds_start.mjs` under Node 22 on free
loopback ports, wait until the PDS answers `_health`, and stop everything at the end.

- `bluesky_pds`: an in-memory PLC directory and @atproto/pds, nothing else (quick).
- `bluesky_network`: @atproto/dev-env's network, with the bsky AppView indexing the PDS, so
  notifications, profiles, search and reports work. It uses a PostgreSQL database of its own
  (created and dropped here, on the server NARVARO_TEST_PG_URL names) and a Redis server
  started here on a free port.

Test modules import the fixtures from here:

    from narvaro.channels.tests.bluesky_pds import bluesky_pds as bluesky_pds

If Node 22, the PDS, PostgreSQL or Redis cannot be installed or started the tests fail
loudly, never skip: the connector is only tested for real against these servers.

There is no AppView in this network: the PDS refuses every `app.bsky.*` view it would proxy
(profiles, feeds, notifications, search) with "No service configured" (see ADR 0012).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[3]
SERVERS = ROOT / "tests" / "servers"
START_TIMEOUT = 120.0
_counter = itertools.count(1)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PdsAccount:
    handle: str
    did: str
    password: str
    access_jwt: str


class LocalPds:
    """The running PDS and the levers tests pull on it (accounts, app passwords, records)."""

    def __init__(self, url: str, appview: str | None = None) -> None:
        self.url = url
        self.appview = appview

    def xrpc(
        self,
        method: str,
        nsid: str,
        *,
        token: str | None = None,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = requests.request(
            method,
            f"{self.url}/xrpc/{nsid}",
            json=body,
            params=params,
            headers=headers,
            timeout=30,
        )
        if response.status_code >= 400:
            raise AssertionError(f"{nsid} answered {response.status_code}: {response.text}")
        return response.json() if response.content else {}

    def create_account(self, name: str = "") -> PdsAccount:
        """A new account `NAME-N.test` (unique per call, the PDS lives for the session)."""
        handle = f"{name or 'user'}{next(_counter)}.test"
        password = f"pw-{handle}"
        data = self.xrpc(
            "POST",
            "com.atproto.server.createAccount",
            body={"handle": handle, "email": f"{handle}@example.org", "password": password},
        )
        return PdsAccount(handle, data["did"], password, data["accessJwt"])

    def app_password(self, account: PdsAccount, name: str = "narvaro") -> str:
        data = self.xrpc(
            "POST",
            "com.atproto.server.createAppPassword",
            token=account.access_jwt,
            body={"name": name},
        )
        return str(data["password"])

    def revoke_app_password(self, account: PdsAccount, name: str = "narvaro") -> None:
        self.xrpc(
            "POST",
            "com.atproto.server.revokeAppPassword",
            token=account.access_jwt,
            body={"name": name},
        )

    def create_record(
        self, account: PdsAccount, collection: str, record: dict[str, Any]
    ) -> dict[str, Any]:
        return self.xrpc(
            "POST",
            "com.atproto.repo.createRecord",
            token=account.access_jwt,
            body={"repo": account.did, "collection": collection, "record": record},
        )

    def put_record(
        self, account: PdsAccount, collection: str, rkey: str, record: dict[str, Any]
    ) -> dict[str, Any]:
        return self.xrpc(
            "POST",
            "com.atproto.repo.putRecord",
            token=account.access_jwt,
            body={"repo": account.did, "collection": collection, "rkey": rkey, "record": record},
        )

    def delete_record(self, account: PdsAccount, collection: str, rkey: str) -> None:
        self.xrpc(
            "POST",
            "com.atproto.repo.deleteRecord",
            token=account.access_jwt,
            body={"repo": account.did, "collection": collection, "rkey": rkey},
        )

    def get_record(self, did: str, collection: str, rkey: str) -> dict[str, Any]:
        return self.xrpc(
            "GET",
            "com.atproto.repo.getRecord",
            params={"repo": did, "collection": collection, "rkey": rkey},
        )


def _install() -> Path:
    script = SERVERS / "pds_install.sh"
    done = subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, timeout=1800, check=False
    )
    if done.returncode != 0:
        pytest.fail(
            "Could not install the local PDS (tests/servers/pds_install.sh):\n"
            + done.stderr[-4000:],
            pytrace=False,
        )
    return Path(done.stdout.strip().splitlines()[-1])


def _read_ready(process: subprocess.Popen[bytes], deadline: float) -> dict[str, Any]:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    buffer = b""
    while time.monotonic() < deadline and process.poll() is None:
        if selector.select(timeout=0.5):
            chunk = os.read(process.stdout.fileno(), 65536)
            buffer += chunk
            if b"\n" in buffer:
                line = buffer.split(b"\n", 1)[0]
                return dict(json.loads(line))
    raise RuntimeError("the servers did not report ready")


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextlib.contextmanager
def _servers(args: list[str], env: dict[str, str] | None = None) -> Iterator[LocalPds]:
    node = _install()
    data_dir = tempfile.mkdtemp(prefix="narvaro-pds-")
    log_path = Path(data_dir) / "servers.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [str(node), str(SERVERS / "pds_start.mjs"), *args, "--data-dir", data_dir],
        cwd=SERVERS,
        stdout=subprocess.PIPE,
        stderr=log,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    try:
        try:
            ready = _read_ready(process, time.monotonic() + START_TIMEOUT)
            health = requests.get(f"{ready['pds']}/xrpc/_health", timeout=10)
            health.raise_for_status()
        except (RuntimeError, ValueError, requests.RequestException) as exc:
            log.flush()
            output = log_path.read_text(errors="replace")[-4000:]
            pytest.fail(f"The local AT Protocol servers did not start: {exc}\n{output}")
        yield LocalPds(ready["pds"], ready.get("appview"))
    finally:
        _stop(process)
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def bluesky_pds() -> Iterator[LocalPds]:
    ports = ["--plc-port", str(_free_port()), "--pds-port", str(_free_port())]
    with _servers(ports) as pds:
        yield pds


@contextlib.contextmanager
def _redis() -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is missing (tests/servers/pds_install.sh installs it)")
    port = _free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("redis-server did not start")
                time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        _stop(process)


@contextlib.contextmanager
def _database() -> Iterator[str]:
    import psycopg

    subprocess.run(["bash", str(ROOT / "scripts" / "ensure_services.sh")], check=False)
    base = os.environ.get("NARVARO_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/narvaro")
    name = f"narvaro_bsky_{uuid.uuid4().hex[:12]}"
    admin = base.rsplit("/", 1)[0] + "/postgres"
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        pytest.fail(f"PostgreSQL at {admin} is needed for the AppView network: {exc}")
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def bluesky_network() -> Iterator[LocalPds]:
    """PLC, PDS and the bsky AppView (with bsync and ozone) from @atproto/dev-env."""
    with _database() as database, _redis() as redis:
        args = ["--appview", "--pds-port", str(_free_port()), "--plc-port", str(_free_port())]
        env = {"DB_POSTGRES_URL": database, "REDIS_HOST": redis}
        with _servers(args, env) as network:
            yield network

"""A real AT Protocol PDS on loopback for the Bluesky connector tests.

`bluesky_pds` (session-scoped) installs the servers if needed (`tests/servers/pds_install.sh`:
@atproto/pds and an in-memory PLC directory under Node 22), starts them on free loopback
ports, waits until the PDS answers `_health`, and stops them at the end of the session.
Test modules import the fixture from here:

    from narvaro.channels.tests.bluesky_pds import LocalPds, bluesky_pds  # noqa: F401

If Node 22 or the PDS cannot be installed or started the tests fail loudly, never skip: the
connector is only tested for real against this server.

There is no AppView in this network: the PDS refuses every `app.bsky.*` view it would proxy
(profiles, feeds, notifications, search) with "No service configured" (see ADR 0012).
"""

from __future__ import annotations

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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

SERVERS = Path(__file__).resolve().parents[3] / "tests" / "servers"
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

    def __init__(self, url: str, admin_password: str, process: subprocess.Popen[bytes]) -> None:
        self.url = url
        self.admin_password = admin_password
        self.process = process

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
    raise RuntimeError("the PDS did not report ready")


@pytest.fixture(scope="session")
def bluesky_pds() -> Iterator[LocalPds]:
    node = _install()
    plc_port, pds_port = _free_port(), _free_port()
    data_dir = tempfile.mkdtemp(prefix="narvaro-pds-")
    log = open(Path(data_dir) / "pds.log", "wb")  # noqa: SIM115 - closed in finally
    process = subprocess.Popen(
        [
            str(node),
            str(SERVERS / "pds_start.mjs"),
            "--plc-port",
            str(plc_port),
            "--pds-port",
            str(pds_port),
            "--data-dir",
            data_dir,
        ],
        cwd=SERVERS,
        stdout=subprocess.PIPE,
        stderr=log,
        start_new_session=True,
    )
    try:
        try:
            ready = _read_ready(process, time.monotonic() + START_TIMEOUT)
            health = requests.get(f"{ready['pds']}/xrpc/_health", timeout=10)
            health.raise_for_status()
        except (RuntimeError, ValueError, requests.RequestException) as exc:
            log.flush()
            output = (Path(data_dir) / "pds.log").read_text(errors="replace")[-4000:]
            pytest.fail(f"The local PDS did not start: {exc}\n{output}", pytrace=False)
        yield LocalPds(ready["pds"], ready["adminPassword"], process)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)

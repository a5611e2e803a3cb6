"""Claim: Narvaro harvests a Mastodon account at least as fast as mastodon-archive.

Figure: seconds for `harvest_run` (the Mastodon connector through the archive's single
writer, SQLite) to take a fresh account with COUNT statuses from mastodon-mock, against the
`mastodon-archive` tool (PyPI) archiving the same account (statuses and mentions; its
favourites and bookmarks skipped, as Narvaro does not harvest them) from the same server in
the same run. The server runs in its own process, seeded once; each side runs once after a
warm-up request.

mastodon-archive only speaks https://DOMAIN; it runs unchanged except that its App's base
address is set to the mock's http:// address (a two-line shim), with its client and user
secret files written beforehand instead of the interactive OAuth sign-in.

Run: .venv/bin/python bench/harvest_mastodon.py [COUNT]
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_on_fresh_sqlite

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
TOOL_VENV = Path(tempfile.gettempdir()) / "narvaro-bench-mastodon-archive"

SERVER = """
import sys, uvicorn
from mastodon_mock.app import create_app
from mastodon_mock.config import (DatabaseConfig, MastodonMockConfig, SeedAccount, SeedConfig,
    SeedStatus)
count, port = int(sys.argv[1]), int(sys.argv[2])
words = ["Biblioteket", "öppnar", "kl", "10", "idag", "snöröjning", "pågår", "tack", "alla"]
statuses = [SeedStatus(account="alice", text=" ".join(words[i % 5:]) + f" #{i}")
            for i in range(count)]
statuses += [SeedStatus(account="bob", text=f"@alice fråga {i}") for i in range(count // 100)]
seed = SeedConfig(accounts=[SeedAccount(username="alice", display_name="Alice",
                                        access_token="alice_token"),
                            SeedAccount(username="bob", display_name="Bob",
                                        access_token="bob_token")],
                  statuses=statuses)
config = MastodonMockConfig(database=DatabaseConfig(path=":memory:"), seed=seed)
uvicorn.run(create_app(config), host="127.0.0.1", port=port, log_level="warning")
"""

SHIM = """
import sys
from mastodon_archive import core
from mastodon_archive import main
base = sys.argv.pop(1)
original = core.App.__init__
def init(self, *args, **kwargs):
    original(self, *args, **kwargs)
    self.url = base
core.App.__init__ = init
sys.exit(main())
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, timeout: float = 600) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer")


def tool_python() -> Path:
    python = TOOL_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TOOL_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "mastodon-archive==1.4.8"], check=True
        )
    return python


def run_mastodon_archive(base: str, workdir: Path) -> float:
    domain = base.removeprefix("http://")
    (workdir / f"{domain}.client.secret").write_text(f"cid\ncsecret\n{base}\nmastodon-archive\n")
    (workdir / f"{domain}.user.alice.secret").write_text(f"alice_token\n{base}\n")
    command = [
        str(tool_python()),
        "-c",
        SHIM,
        base,
        "--quiet",
        "archive",
        "--no-favourites",
        "--no-bookmarks",
        "--with-mentions",
        f"alice@{domain}",
    ]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"mastodon-archive failed: {done.stderr[-2000:]}")
    archive = json.loads((workdir / f"{domain}.user.alice.json").read_text())
    print(
        f"mastodon-archive: {len(archive['statuses'])} statuses, "
        f"{len(archive.get('mentions', []))} mentions in {elapsed:.2f} s"
    )
    return elapsed


def run_narvaro(base: str) -> float:
    from narvaro.archive.models import Item
    from narvaro.channels.harvest import build_connector, connection_save, harvest_run
    from narvaro.channels.services import account_create
    from narvaro.organisation import services as org_services

    credentials = {"access_token": "alice_token"}
    profile = build_connector(platform="mastodon", base_url=base, credentials=credentials).verify()
    unit = org_services.unit_create(actor=None, slug="bench", name="Bench")
    account = account_create(actor=None, unit=unit, platform="mastodon", handle=profile.handle)
    connection = connection_save(
        actor=None, account=account, base_url=base, credentials=credentials, profile=profile
    )
    started = time.perf_counter()
    report = harvest_run(connection)
    elapsed = time.perf_counter() - started
    if report.status != "ok":
        raise RuntimeError(f"harvest failed: {report.error}")
    print(
        f"narvaro harvest: {report.items} items ({Item.objects.count()} stored), "
        f"{report.versions} versions in {elapsed:.2f} s"
    )
    return elapsed


def main() -> None:
    django_on_fresh_sqlite()
    os.environ.setdefault("NARVARO_TOKEN_KEY", "6cUNcA7Xg5CRUvB2cK8SQ4Wm9oC1w0hWcqH2cD3h7yQ=")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    tool_python()
    print(f"seeding mastodon-mock with {COUNT} statuses ...")
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(COUNT), str(port)])
    try:
        wait_for(f"{base}/api/v1/instance")
        with tempfile.TemporaryDirectory() as workdir:
            tool = run_mastodon_archive(base, Path(workdir))
        ours = run_narvaro(base)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        f"narvaro {ours:.2f} s vs mastodon-archive {tool:.2f} s: ratio {ours / tool:.2f} "
        "(target ≤ 1.0)"
    )


if __name__ == "__main__":
    main()

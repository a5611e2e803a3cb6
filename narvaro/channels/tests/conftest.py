"""A real Mastodon API server on loopback for the connector tests: mastodon-mock.

`mastodon_server` starts one mastodon-mock (FastAPI + in-memory SQLite, seeded with
alice, bob, carol and the remote dave) on a free loopback port for the test module and
stops it afterwards; `mastodon` resets its data and fault rules before each test and
hands out a small helper to drive it (post as bob, inject faults, revoke tokens).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from mastodon import Mastodon
from mastodon_mock.testing.server import MockServer

TOKEN_KEY = "6cUNcA7Xg5CRUvB2cK8SQ4Wm9oC1w0hWcqH2cD3h7yQ="


class MastodonServer:
    """The running mock and the levers tests pull on it."""

    def __init__(self, server: MockServer) -> None:
        self.server = server
        self.url = server.base_url

    def client(self, token: str) -> Mastodon:
        return Mastodon(access_token=token, api_base_url=self.url, version_check_mode="none")

    def reset(self) -> None:
        requests.post(f"{self.url}/api/v1/_mock/reset", timeout=10).raise_for_status()
        self.clear_faults()

    def fault(
        self,
        effect: dict[str, Any],
        *,
        path: str | None = None,
        count: int | None = None,
        methods: list[str] | None = None,
        path_regex: str | None = None,
    ) -> None:
        match: dict[str, Any] = {}
        if path is not None:
            match["path"] = path
        if path_regex is not None:
            match["path_regex"] = path_regex
        if methods is not None:
            match["methods"] = methods
        body: dict[str, Any] = {"match": match, "effect": effect}
        if count is not None:
            body["count"] = count
        requests.post(f"{self.url}/api/v1/_mock/faults", json=body, timeout=10).raise_for_status()

    def faults(self) -> list[dict[str, Any]]:
        """The fault rules that have not fired yet."""
        response = requests.get(f"{self.url}/api/v1/_mock/faults", timeout=10)
        response.raise_for_status()
        return list(response.json())

    def clear_faults(self) -> None:
        requests.delete(f"{self.url}/api/v1/_mock/faults", timeout=10).raise_for_status()

    def revoke(self, token: str) -> None:
        requests.post(f"{self.url}/oauth/revoke", data={"token": token}, timeout=10)

    def new_token(self, username: str) -> str:
        response = requests.post(
            f"{self.url}/api/v1/_mock/login", json={"username": username}, timeout=10
        )
        response.raise_for_status()
        return str(response.json()["access_token"])


@pytest.fixture(scope="module")
def mastodon_server() -> Iterator[MockServer]:
    server = MockServer(host="127.0.0.1")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mastodon(mastodon_server: MockServer) -> MastodonServer:
    helper = MastodonServer(mastodon_server)
    helper.reset()
    return helper


@pytest.fixture(autouse=True)
def _token_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from narvaro.channels.tokens import reset_key_cache

    monkeypatch.setenv("NARVARO_TOKEN_KEY", TOKEN_KEY)
    reset_key_cache()
    yield
    reset_key_cache()

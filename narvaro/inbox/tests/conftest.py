"""The inbox's end-to-end tests use the same real Mastodon server as the connector tests."""

from narvaro.channels.tests.conftest import (  # noqa: F401
    _token_key,
    mastodon,
    mastodon_server,
)

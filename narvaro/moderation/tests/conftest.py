"""mastodon-mock for the platform tests (the channels tests' fixtures, reused as they are)."""

from narvaro.channels.tests.conftest import _token_key, mastodon, mastodon_server

__all__ = ["_token_key", "mastodon", "mastodon_server"]

"""Live platform connectors: platform code → connector class (see `connectors.base`).

A connector module is imported only when its platform is asked for, so a missing optional
SDK breaks only that platform.
"""

from __future__ import annotations

from django.utils.module_loading import import_string

from narvaro.channels.connectors.base import Connector

CONNECTORS: dict[str, str] = {
    "mastodon": "narvaro.channels.connectors.mastodon.MastodonConnector",
    "bluesky": "narvaro.channels.connectors.bluesky.BlueskyConnector",
}


def connector_class(platform: str) -> type[Connector]:
    """The connector class for `platform`; KeyError if there is none."""
    try:
        path = CONNECTORS[platform]
    except KeyError:
        raise KeyError(f"no live connector for platform {platform!r}") from None
    cls: type[Connector] = import_string(path)
    return cls


def supported_platforms() -> list[str]:
    return sorted(CONNECTORS)

"""What each unit role may do. Roles are data; this table is the single place that says so."""

from __future__ import annotations

from enum import StrEnum

from narvaro.organisation.models import Membership


class Capability(StrEnum):
    """A thing a person may do in a unit (and in every unit below it)."""

    VIEW = "view"
    RESPOND = "respond"
    PUBLISH = "publish"
    MODERATE = "moderate"
    APPROVE = "approve"
    MANAGE = "manage"


Role = Membership.Role

ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.VIEWER: frozenset({Capability.VIEW}),
    Role.RESPONDER: frozenset({Capability.VIEW, Capability.RESPOND}),
    Role.PUBLISHER: frozenset({Capability.VIEW, Capability.RESPOND, Capability.PUBLISH}),
    Role.MODERATOR: frozenset({Capability.VIEW, Capability.RESPOND, Capability.MODERATE}),
    Role.APPROVER: frozenset(
        {Capability.VIEW, Capability.RESPOND, Capability.PUBLISH, Capability.APPROVE}
    ),
    Role.MANAGER: frozenset(Capability),
}


def role_allows(role: str, capability: Capability) -> bool:
    """True when `role` grants `capability`."""
    return capability in ROLE_CAPABILITIES.get(role, frozenset())

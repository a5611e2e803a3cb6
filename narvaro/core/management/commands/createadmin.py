"""`narvaro createadmin`: create an organisation administrator (the first one, typically)."""

from __future__ import annotations

import getpass
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from narvaro.core import services
from narvaro.core.models import User
from narvaro.lib.commands import OneLineErrorsMixin


class Command(OneLineErrorsMixin, BaseCommand):
    help = (
        "Create an organisation administrator. The password is asked for interactively, or "
        "read from NARVARO_ADMIN_PASSWORD. The admin sets up two-factor authentication at "
        "first sign-in."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", required=True, help="Where password resets are sent.")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument(
            "--password-env",
            default="NARVARO_ADMIN_PASSWORD",
            help="Environment variable to read the password from (default: %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        import os

        username = options["username"]
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A person with the username {username!r} already exists.")
        password = os.environ.get(options["password_env"]) or self._ask_password()
        candidate = User(username=username, email=options["email"])
        try:
            validate_password(password, candidate)
        except ValidationError as exc:
            raise CommandError("Password rejected: " + " ".join(exc.messages)) from exc
        try:
            services.user_create(
                actor=None,
                username=username,
                email=options["email"],
                first_name=options["first_name"],
                last_name=options["last_name"],
                org_role=User.OrgRole.ADMIN,
                password=password,
            )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            ) from exc
        self.stdout.write(self.style.SUCCESS(f"Administrator {username} created."))

    def _ask_password(self) -> str:
        if not self.stdin_is_interactive():
            raise CommandError(
                "No password: set NARVARO_ADMIN_PASSWORD or run the command in a terminal."
            )
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The passwords do not match.")
        return first

    @staticmethod
    def stdin_is_interactive() -> bool:
        import sys

        return sys.stdin is not None and sys.stdin.isatty()

"""Management-command helpers shared by the `narvaro` verbs."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

from django.core.management.base import CommandParser


class OneLineErrorsMixin:
    """Report a bad argument in one line (not argparse's usage block) and exit with status 2."""

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)  # type: ignore[misc]
        verb = f"narvaro {subcommand}"
        called_from_command_line = parser.called_from_command_line

        def error(message: str) -> NoReturn:
            if not called_from_command_line:
                from django.core.management.base import CommandError

                raise CommandError(f"Error: {message}")
            sys.stderr.write(f"{verb}: {message} (see `{verb} --help`)\n")
            sys.exit(2)

        parser.error = error  # type: ignore[method-assign]
        return parser

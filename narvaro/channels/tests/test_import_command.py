"""`narvaro import`: what it checks before anything is stored, and what it records."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import CommandError

from narvaro.channels.models import Account
from narvaro.core.models import AuditEvent
from narvaro.lib.testing import NarvaroTestCase


def broken_x_archive() -> Path:
    root = Path(tempfile.mkdtemp(prefix="narvaro-x-"))
    (root / "data").mkdir()
    (root / "data" / "account.js").write_text(
        'window.YTD.account.part0 = [{"account": {"username": "ny", "accountId": "7"}}]'
    )
    (root / "data" / "tweets.js").write_text(
        'window.YTD.tweets.part0 = [{"tweet": {"id_str": "1", "full_'
    )
    return root


class ImportCommandTests(NarvaroTestCase):
    def test_a_refused_export_does_not_even_add_the_new_account(self) -> None:
        out = io.StringIO()
        with self.assertRaises(SystemExit):
            call_command(
                "import",
                "x",
                str(broken_x_archive()),
                "--account",
                "x:@ny",
                "--unit",
                "kultur",
                "--json",
                stdout=out,
            )
        (error,) = json.loads(out.getvalue())["errors"]
        self.assertRegex(error, r"data/tweets\.js: record 1: ")
        self.assertFalse(Account.objects.filter(handle="@ny").exists())
        self.assertFalse(AuditEvent.objects.filter(action="import").exists())

    def test_an_unknown_account_without_a_unit_is_refused_with_the_way_out(self) -> None:
        with self.assertRaisesMessage(
            CommandError, "No account x:@ny in the register. Name the unit"
        ):
            call_command("import", "x", str(broken_x_archive()), "--account", "x:@ny")

    def test_the_account_must_be_of_the_exports_platform(self) -> None:
        with self.assertRaisesMessage(
            CommandError, "is a mastodon account, but this is a x export"
        ):
            call_command("import", "x", str(broken_x_archive()), "--account", self.account_a_spec())

    def test_an_unknown_unit_is_named(self) -> None:
        with self.assertRaisesMessage(
            CommandError, "--unit 'nowhere': no unit has that short name"
        ):
            call_command(
                "import", "x", str(broken_x_archive()), "--account", "x:@ny", "--unit", "nowhere"
            )

    def account_a_spec(self) -> str:
        return f"mastodon:{self.account_a.handle}"

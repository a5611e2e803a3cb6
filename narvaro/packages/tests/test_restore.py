"""Round trip (R32): a package restored into an empty archive reproduces every field."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import bagit
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from narvaro.archive.fixity import verify_archive
from narvaro.archive.models import (
    ChainHead,
    Item,
    ItemEvent,
    ItemVersion,
    MediaFile,
    SearchEntry,
    VersionMedia,
)
from narvaro.channels.models import Account
from narvaro.cli import main as cli_main
from narvaro.lib.testing import NarvaroTestCase
from narvaro.packages.models import RestoredChainEntry
from narvaro.packages.tests.support import fill_archive

ITEM_FIELDS = [f.name for f in Item._meta.concrete_fields if f.name not in ("id", "account")]
VERSION_FIELDS = [
    f.name for f in ItemVersion._meta.concrete_fields if f.name not in ("id", "item", "account")
]
EVENT_FIELDS = [
    f.name for f in ItemEvent._meta.concrete_fields if f.name not in ("id", "item", "account")
]
ATTACHMENT_FIELDS = ["position", "original_name", "alt_text", "missing"]


def archive_state() -> dict[str, Any]:
    """Every field of every item, version, event and attachment, as the archive presents it.

    For a restored account the chain values the capture service stamped anew (seq,
    recorded_at, chain_digest, an item's first_seen_at, an event's actor) are read from the
    original values kept beside them, exactly as an export writes them.
    """
    restored = {(r.account_id, r.seq): r for r in RestoredChainEntry.objects.all()}
    first_seen = {}
    state: dict[str, Any] = {}
    for version in ItemVersion.objects.select_related("item", "account").order_by("seq"):
        original = restored.get((version.account_id, version.seq))
        values = {name: getattr(version, name) for name in VERSION_FIELDS}
        if original is not None:
            values.update(
                seq=original.original_seq,
                recorded_at=original.recorded_at,
                chain_digest=original.chain_digest,
            )
            if original.item_first_seen_at is not None:
                first_seen[version.item_id] = original.item_first_seen_at
        values["account"] = f"{version.account.platform}:{version.account.handle}"
        values["attachments"] = [
            {
                **{name: getattr(row, name) for name in ATTACHMENT_FIELDS},
                "media": (row.media.sha256, row.media.size, row.media.content_type)
                if row.media
                else None,
                "caption": row.caption.sha256 if row.caption else None,
            }
            for row in VersionMedia.objects.filter(version=version).order_by("position")
        ]
        state[f"{version.item} v{version.number}"] = values
    for event in ItemEvent.objects.select_related("item").order_by("seq"):
        original = restored.get((event.account_id, event.seq))
        values = {name: getattr(event, name) for name in EVENT_FIELDS}
        if original is not None:
            values.update(
                seq=original.original_seq,
                recorded_at=original.recorded_at,
                chain_digest=original.chain_digest,
                actor_name=original.actor_name,
            )
        state[f"{event.item} {event.type} {event.occurred_at}"] = values
    for item in Item.objects.select_related("account"):
        values = {name: getattr(item, name) for name in ITEM_FIELDS}
        values["first_seen_at"] = first_seen.get(item.pk, item.first_seen_at)
        values["account"] = f"{item.account.platform}:{item.account.handle}"
        state[str(item)] = values
    return state


def empty_the_archive() -> None:
    """What a new Narvaro holds: no archived rows (the test database keeps the cast)."""
    VersionMedia.objects.all().delete()
    ItemEvent.objects.all().delete()
    ItemVersion.objects.all().delete()
    SearchEntry.objects.all().delete()
    Item.objects.all().delete()
    ChainHead.objects.all().delete()
    MediaFile.objects.all().delete()


def records_without_ids(folder: Path) -> dict[str, list[dict[str, Any]]]:
    records = {}
    for name in ("items", "versions", "events", "media"):
        lines = (folder / "data" / "records" / f"{name}.jsonl").read_text().splitlines()
        rows = [json.loads(line) for line in lines]
        for row in rows:
            row.pop("id", None)
            row.pop("item_id", None)
            if name == "media":
                # When this Narvaro first stored the file: not part of any record or chain.
                row.pop("first_seen_at")
        records[name] = rows
    return records


class RoundTripTests(NarvaroTestCase):
    def setUp(self) -> None:
        super().setUp()
        fill_archive(self.account_a, self.account_b)
        self.out_dir = Path(tempfile.mkdtemp(prefix="narvaro-restore-test-"))
        self.addCleanup(shutil.rmtree, self.out_dir, ignore_errors=True)

    def export(self, name: str) -> Path:
        out = self.out_dir / name
        call_command("export", "bagit", "--out", str(out), "--json", stdout=io.StringIO())
        return out

    def restore_into_empty_archive(self, package: Path) -> None:
        empty_the_archive()
        fresh_media = tempfile.mkdtemp(prefix="narvaro-empty-media-")
        self.addCleanup(shutil.rmtree, fresh_media, ignore_errors=True)
        # A new Narvaro: no media stored either, so every file must come from the package.
        with override_settings(MEDIA_ROOT=fresh_media):
            call_command("import_package", str(package), stdout=io.StringIO())
            self.assertTrue(verify_archive().intact)

    def test_a_restored_package_reproduces_every_field_r32(self) -> None:
        before = archive_state()
        package = self.export("bag")
        self.restore_into_empty_archive(package)
        after = archive_state()
        self.assertEqual(sorted(after), sorted(before))
        for key, values in before.items():
            self.assertEqual(after[key], values, key)

    def test_a_restored_archive_exports_the_same_records_r32(self) -> None:
        first = self.export("first")
        self.restore_into_empty_archive(first)
        second = self.export("second")
        self.assertEqual(records_without_ids(second), records_without_ids(first))
        first_heads = [
            json.loads(x)["chain"] for x in (first / "data/records/accounts.jsonl").open()
        ]
        second_heads = [
            json.loads(x)["chain"] for x in (second / "data/records/accounts.jsonl").open()
        ]
        self.assertEqual(second_heads, first_heads)

    def test_the_cli_verb_import_narvaro_bagit_restores_a_package(self) -> None:
        # --help stops before the command opens the database (run_from_argv closes it after).
        out = io.StringIO()
        with contextlib.redirect_stdout(out), self.assertRaises(SystemExit) as stop:
            cli_main(["import", "narvaro-bagit", "--help"])
        self.assertEqual(stop.exception.code, 0)
        self.assertIn("Restore a BagIt package made by `narvaro export bagit`", out.getvalue())

    def test_missing_accounts_are_created_as_proposed(self) -> None:
        package = self.export("bag")
        handle = self.account_b.handle
        empty_the_archive()
        self.account_b.policy_publications.all().delete()
        Account.objects.filter(pk=self.account_b.pk).delete()
        call_command("import_package", str(package), stdout=io.StringIO())
        restored = Account.objects.get(platform="mastodon", handle=handle)
        self.assertEqual(restored.state, Account.State.PROPOSED)
        self.assertEqual(restored.unit, self.unit_b)
        self.assertEqual(Item.objects.get(remote_id="b1").account, restored)

    def test_a_package_is_not_restored_over_records_already_held(self) -> None:
        package = self.export("bag")
        with self.assertRaisesMessage(CommandError, "already in this archive"):
            call_command("import_package", str(package), stdout=io.StringIO())

    def test_a_forged_chain_entry_is_refused_naming_file_and_line(self) -> None:
        package = self.export("bag")
        versions = package / "data" / "records" / "versions.jsonl"
        lines = versions.read_text().splitlines()
        record = json.loads(lines[1])
        record["source"] = "forged"
        lines[1] = json.dumps(record, ensure_ascii=False, sort_keys=True)
        versions.write_text("\n".join(lines) + "\n")
        bagit.Bag(str(package)).save(manifests=True)  # a forger would fix the manifests too
        empty_the_archive()
        with self.assertRaisesMessage(
            CommandError, "records/versions.jsonl: line 2: chain_digest does not match"
        ):
            call_command("import_package", str(package), stdout=io.StringIO())
        self.assertFalse(Item.objects.exists())

    def test_a_changed_file_fails_the_bag_check(self) -> None:
        package = self.export("bag")
        media = next((package / "data" / "media").rglob("*"))
        while media.is_dir():
            media = next(media.iterdir())
        media.write_bytes(b"changed")
        empty_the_archive()
        with self.assertRaisesMessage(CommandError, "Nothing was imported"):
            call_command("import_package", str(package), stdout=io.StringIO())
        self.assertFalse(Item.objects.exists())

    def test_a_record_against_the_schema_is_refused(self) -> None:
        package = self.export("bag")
        items = package / "data" / "records" / "items.jsonl"
        lines = items.read_text().splitlines()
        record = json.loads(lines[0])
        record["kind"] = "tweet"
        lines[0] = json.dumps(record)
        items.write_text("\n".join(lines) + "\n")
        bagit.Bag(str(package)).save(manifests=True)
        empty_the_archive()
        with self.assertRaisesMessage(CommandError, "records/items.jsonl: line 1: kind:"):
            call_command("import_package", str(package), stdout=io.StringIO())

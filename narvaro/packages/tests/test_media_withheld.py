"""Packages never copy the media of an item moderated as child sexual abuse material (R19).

The attachment stays listed (digest, type, size) with a `withheld` note; the package still
validates, and restores into an archive that verifies, with every content digest as it was.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
from pathlib import Path

import bagit
import jsonschema
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from pypdf import PdfReader

from narvaro.archive.events import item_event_record
from narvaro.archive.fixity import verify_archive
from narvaro.archive.models import Item, MediaFile, VersionMedia
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import READING_ROOM_PNG, TWEET_PNG, a_capture, a_png
from narvaro.lib.testing import NarvaroTestCase
from narvaro.packages.records import RECORD_FILES, SCHEMA_DIR
from narvaro.packages.tests.support import eark_errors, fill_archive
from narvaro.packages.tests.test_export import VALIDATOR_DEFECTS, read_jsonl
from narvaro.packages.tests.test_restore import (
    archive_state,
    empty_the_archive,
    records_without_ids,
)

WITHHELD_BYTES = READING_ROOM_PNG.read_bytes()
WITHHELD_SHA = hashlib.sha256(WITHHELD_BYTES).hexdigest()
KEPT_SHA = hashlib.sha256(TWEET_PNG.read_bytes()).hexdigest()


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def attachments_of(package: Path, remote_id: str) -> list[dict]:
    items = read_jsonl(package / "data" / "records" / "items.jsonl")
    item_id = next(item["id"] for item in items if item["remote_id"] == remote_id)
    versions = read_jsonl(package / "data" / "records" / "versions.jsonl")
    return [a for v in versions if v["item_id"] == item_id for a in v["attachments"]]


class MediaWithheldPackageTests(NarvaroTestCase):
    def setUp(self) -> None:
        super().setUp()
        fill_archive(self.account_a, self.account_b)
        capture_batch(
            account=self.account_a,
            captures=[
                a_capture("x1", "Olagligt innehåll", media=(a_png("x.png", alt="bild"),)),
                a_capture("x2", "Läsesalen", media=(a_png("lasesal.png", TWEET_PNG),)),
            ],
            source="test",
        )
        # The same bytes, attached to an item of another account that nobody moderated.
        capture_batch(
            account=self.account_b, captures=[a_capture("x3", media=(a_png("y.png"),))], source="t"
        )
        item_event_record(
            item=Item.objects.get(remote_id="x1"),
            type="hidden",
            details={"reason": "csam", "reason_group": "bbs"},
            actor=self.adam,
            source="moderation",
        )
        self.out_dir = Path(tempfile.mkdtemp(prefix="narvaro-withheld-test-"))
        self.addCleanup(shutil.rmtree, self.out_dir, ignore_errors=True)

    def export(self, fmt: str, name: str, *args: str) -> Path:
        out = self.out_dir / name
        call_command("export", fmt, "--out", str(out), "--json", *args, stdout=io.StringIO())
        return out

    def assert_no_copy(self, package: Path) -> None:
        for path in files_under(package):
            self.assertNotEqual(path.name, WITHHELD_SHA, path)
            self.assertNotIn(WITHHELD_BYTES, path.read_bytes(), path)

    def test_a_bag_holds_no_copy_and_lists_the_attachment_as_withheld(self) -> None:
        package = self.export("bagit", "bag")
        self.assert_no_copy(package)
        for remote_id in ("x1", "x3"):
            [attachment] = attachments_of(package, remote_id)
            self.assertEqual(attachment["media_sha256"], WITHHELD_SHA)
            self.assertEqual(attachment["content_type"], "image/png")
            self.assertIsNone(attachment["media_file"])
            self.assertEqual(attachment["withheld"], "csam moderation")
        media = {m["sha256"]: m for m in read_jsonl(package / "data/records/media.jsonl")}
        self.assertEqual(
            media[WITHHELD_SHA],
            {
                "sha256": WITHHELD_SHA,
                "content_type": "image/png",
                "size": len(WITHHELD_BYTES),
                "first_seen_at": media[WITHHELD_SHA]["first_seen_at"],
                "file": None,
                "withheld": "csam moderation",
            },
        )
        # Items not so moderated keep their media.
        [kept] = attachments_of(package, "x2")
        self.assertIsNone(kept["withheld"])
        self.assertEqual(kept["media_file"], f"media/{KEPT_SHA[:2]}/{KEPT_SHA}")
        self.assertTrue((package / "data" / kept["media_file"]).is_file())
        self.assertTrue(any(m["file"] for m in media.values() if m["sha256"] != WITHHELD_SHA))
        # Valid: the bag, every record against its schema, the recomputed digests.
        bagit.Bag(str(package)).validate()
        for name, schema_name in RECORD_FILES.items():
            validator = jsonschema.Draft202012Validator(
                json.loads((SCHEMA_DIR / schema_name).read_text()),
                format_checker=jsonschema.FormatChecker(),
            )
            for record in read_jsonl(package / "data" / "records" / name):
                validator.validate(record)
        verification = json.loads((package / "data/fixity/verification.json").read_text())
        self.assertTrue(verification["intact"])
        self.assertEqual(verification["media_withheld"], 1)
        manifest = (package / "manifest-sha256.txt").read_text()
        self.assertNotIn(WITHHELD_SHA, manifest)

    def test_an_eark_sip_with_renderings_holds_no_copy_and_validates(self) -> None:
        package = self.export("eark", "narvaro-sip-w", "--renderings")
        self.assert_no_copy(package)
        errors = [e for e in eark_errors(package) if e.split()[0] not in VALIDATOR_DEFECTS]
        self.assertEqual(errors, [], "\n".join(errors))
        # Account A's rendering draws the kept image only; account B's draws none. (The pages
        # of a rendering share their resources, so images are counted once by their data.)
        images = {
            pdf.name.split("-part-")[0]: len(
                {image.data for page in PdfReader(pdf).pages for image in page.images}
            )
            for pdf in (package / "representations" / "renderings" / "data").rglob("*.pdf")
        }
        self.assertEqual(
            images, {f"account-{self.account_a.pk}": 1, f"account-{self.account_b.pk}": 0}
        )

    def restore_into_empty_archive(self, package: Path) -> None:
        empty_the_archive()
        fresh_media = tempfile.mkdtemp(prefix="narvaro-empty-media-")
        self.addCleanup(shutil.rmtree, fresh_media, ignore_errors=True)
        with override_settings(MEDIA_ROOT=fresh_media):
            call_command("import_package", str(package), stdout=io.StringIO())
            report = verify_archive()
            self.assertTrue(report.intact, report.problems)
            self.assertEqual(report.media_not_held, 1)
            self.assertNotIn(
                WITHHELD_BYTES, b"".join(p.read_bytes() for p in files_under(Path(fresh_media)))
            )

    def test_a_package_with_a_withheld_file_restores_its_record_without_the_bytes(self) -> None:
        before = archive_state()
        first = self.export("bagit", "first")
        self.restore_into_empty_archive(first)
        self.assertEqual(archive_state(), before)
        restored = VersionMedia.objects.get(version__item__remote_id="x1")
        self.assertEqual(restored.media.sha256, WITHHELD_SHA)
        self.assertFalse(restored.missing)
        self.assertEqual(MediaFile.objects.get(sha256=WITHHELD_SHA).storage_name, "")
        # Not served, not even from the unmoderated item that has the same bytes.
        other = Item.objects.get(remote_id="x3")
        client = self.client_for(self.adam)
        self.assertEqual(client.get(other.get_absolute_url()).status_code, 200)
        response = client.get(f"/records/{other.pk}/versions/1/media/0/")
        self.assertEqual(response.status_code, 404)
        # Exported again, the package has the same records and still no copy.
        second = self.export("bagit", "second")
        self.assertEqual(records_without_ids(second), records_without_ids(first))
        self.assert_no_copy(second)

    def test_a_file_neither_in_the_package_nor_withheld_is_refused(self) -> None:
        package = self.export("bagit", "bag")
        versions = package / "data" / "records" / "versions.jsonl"
        records = read_jsonl(versions)
        for record in records:
            for attachment in record["attachments"]:
                attachment["withheld"] = None
        versions.write_text(
            "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)
        )
        bagit.Bag(str(package)).save(manifests=True)
        empty_the_archive()
        with self.assertRaisesMessage(CommandError, "is neither in the package nor withheld"):
            call_command("import_package", str(package), stdout=io.StringIO())
        self.assertFalse(Item.objects.exists())

"""`narvaro import mastodon`: a Mastodon account export (.tar.gz or folder) into the archive."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from narvaro.archive.models import Item, ItemEvent, ItemVersion, VersionMedia
from narvaro.channels.importers.base import ImportFormatError
from narvaro.channels.importers.mastodon import MastodonExportImporter, html_to_text
from narvaro.channels.services import import_batch_store
from narvaro.lib.testing import NarvaroTestCase

FIXTURES = Path(__file__).parent / "fixtures" / "mastodon"
ACCOUNT = "mastodon:@bibliotek@social.example"
STATUS = "https://social.example/users/bibliotek/statuses/"
PHOTO = "media_attachments/files/111/222/333/444/555/001/original/3381f6f615f26246.png"
GONE = "/media_attachments/files/111/222/333/444/555/002/original/72891484be9549e6.jpg"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def export_folder(
    parent: Path, outbox: str | bytes = "outbox__repeated_ordered_items.json"
) -> Path:
    """An unpacked export as Mastodon writes it, built from the fixture files."""
    folder = parent / "archive-20260308-bibliotek"
    folder.mkdir()
    data = outbox if isinstance(outbox, bytes) else fixture(outbox)
    (folder / "outbox.json").write_bytes(data)
    (folder / "actor.json").write_bytes(fixture("actor__bibliotek.json"))
    photo = folder / PHOTO
    photo.parent.mkdir(parents=True)
    photo.write_bytes(fixture("media__reading_room.png"))
    return folder


def export_tar(parent: Path, **kwargs: Any) -> Path:
    """The same export as the .tar.gz users download (files at the archive's top level)."""
    folder = export_folder(parent, **kwargs)
    target = parent / "archive-20260308-bibliotek.tar.gz"
    with tarfile.open(target, "w:gz") as archive:
        for child in sorted(folder.iterdir()):
            archive.add(child, arcname=child.name)
    return target


class ImportMastodonTests(NarvaroTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.tmp = Path(tempfile.mkdtemp(prefix="narvaro-test-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def run_import(self, path: Path) -> dict[str, Any]:
        out = io.StringIO()
        call_command(
            "import", "mastodon", str(path), "--account", ACCOUNT, "--unit", "kultur", "--json",
            stdout=out,
        )  # fmt: skip
        return json.loads(out.getvalue())  # type: ignore[no-any-return]

    def counts(self) -> tuple[int, int, int]:
        return Item.objects.count(), ItemVersion.objects.count(), VersionMedia.objects.count()

    def assert_refused(self, path: Path, *needles: str) -> None:
        before = self.counts()
        out = io.StringIO()
        with self.assertRaises(SystemExit):
            call_command(
                "import", "mastodon", str(path), "--account", ACCOUNT, "--unit", "kultur",
                "--json", stdout=out,
            )  # fmt: skip
        report = json.loads(out.getvalue())
        self.assertEqual(report["items"], 0)
        for needle in needles:
            self.assertIn(needle, report["errors"][0])
        self.assertEqual(self.counts(), before)

    def test_it_imports_a_tar_gz_export(self) -> None:
        report = self.run_import(export_tar(self.tmp))
        self.assertEqual(
            report,
            {
                "items": 5,
                "versions": 5,
                "deletions": 0,
                "media": 1,
                "duplicates_skipped": 0,
                "media_missing": 1,
                "errors": [f"missing media: {GONE}"],
            },
        )
        self.assertEqual(
            Item.objects.filter(account__handle="@bibliotek@social.example").count(), 5
        )

    def test_it_reads_both_occurrences_of_ordered_items(self) -> None:
        report = self.run_import(
            export_folder(self.tmp, outbox="outbox__items_under_both_keys.json")
        )
        self.assertEqual(report["items"], 5)
        notes = [f"11122233344455500{n}" for n in (1, 2, 3, 5)]
        self.assertEqual(
            sorted(Item.objects.values_list("remote_id", flat=True)),
            sorted(f"{STATUS}{n}" for n in [*notes, "111222333444555004/activity"]),
        )

    def test_a_post_is_stored_with_text_html_link_and_media(self) -> None:
        self.run_import(export_folder(self.tmp))
        item = Item.objects.get(remote_id=f"{STATUS}111222333444555001")
        self.assertEqual(item.kind, "post")
        self.assertEqual(item.direction, "drawn_up")
        self.assertEqual(item.visibility, "public")
        self.assertEqual(item.permalink, "https://social.example/@bibliotek/111222333444555001")
        self.assertEqual(item.author_handle, "@bibliotek@social.example")
        self.assertEqual(item.author_name, "Stadsbiblioteket")
        self.assertEqual(item.created_at.isoformat(), "2026-03-05T09:00:00+00:00")
        version = item.versions.get()
        self.assertEqual(
            version.text,
            "Nu har vi öppnat läsesalen igen! Läs mer på https://bibliotek.example/lasesalen\n\n"
            "Välkomna & varmt välkomna\n/Biblioteket",
        )
        self.assertIn('<span class="invisible">https://</span>', version.html)
        self.assertEqual(json.loads(version.raw_payload)["type"], "Create")
        attachment = version.attachments.get()
        self.assertFalse(attachment.missing)
        self.assertEqual(attachment.alt_text, "Läsesalen med nya fåtöljer")
        self.assertEqual(attachment.media.content_type, "image/png")  # type: ignore[union-attr]

    def test_replies_boosts_and_visibilities_are_told_apart(self) -> None:
        self.run_import(export_folder(self.tmp))
        reply = Item.objects.get(remote_id=f"{STATUS}111222333444555002")
        self.assertEqual(reply.kind, "reply")
        self.assertEqual(reply.parent_remote_id, "https://other.example/users/anna/statuses/987")
        self.assertEqual(reply.visibility, "unlisted")
        boost = Item.objects.get(remote_id=f"{STATUS}111222333444555004/activity")
        self.assertEqual(boost.kind, "share")
        self.assertEqual(
            boost.parent_remote_id, "https://kommun.example/users/kommunen/statuses/555"
        )
        followers = Item.objects.get(remote_id=f"{STATUS}111222333444555003")
        self.assertEqual(followers.visibility, "followers")
        self.assertEqual(followers.versions.get().text.split("\n")[0], "Öppettider")
        self.assertTrue(followers.versions.get().attachments.get().missing)
        direct = Item.objects.get(remote_id=f"{STATUS}111222333444555005")
        self.assertEqual(direct.visibility, "direct")

    def test_a_second_import_adds_nothing(self) -> None:
        export = export_tar(self.tmp)
        self.run_import(export)
        before = self.counts()
        report = self.run_import(export)
        self.assertEqual(report["items"], 0)
        self.assertEqual(report["versions"], 0)
        self.assertEqual(report["duplicates_skipped"], 5)
        self.assertEqual(self.counts(), before)

    def test_an_edited_note_becomes_a_new_version(self) -> None:
        first = self.tmp / "first"
        first.mkdir()
        self.run_import(export_folder(first))
        second = self.tmp / "second"
        second.mkdir()
        report = self.run_import(export_folder(second, outbox="outbox__note_edited.json"))
        self.assertEqual((report["items"], report["versions"]), (0, 1))
        self.assertEqual(report["duplicates_skipped"], 4)
        edited = Item.objects.get(remote_id=f"{STATUS}111222333444555003")
        texts = list(edited.versions.order_by("number").values_list("text", flat=True))
        self.assertIn("10–16", texts[0])
        self.assertIn("10–18", texts[1])

    def test_deletes_become_events_likes_are_counted_and_an_unknown_delete_is_reported(
        self,
    ) -> None:
        report = self.run_import(
            export_folder(self.tmp, outbox="outbox__delete_like_announce.json")
        )
        self.assertEqual(
            (report["items"], report["versions"], report["deletions"]), (3, 3, 1), report
        )
        self.assertEqual(
            report["errors"],
            [
                f"deleted event for {STATUS}111222333444555699: "
                "the archive does not hold this item",
                "skipped 2 Like activity(s): not archived items",
            ],
        )
        # The Delete came before the Create in the outbox: it is still recorded on the item.
        deleted = Item.objects.get(remote_id=f"{STATUS}111222333444555601")
        event = deleted.events.get()
        self.assertEqual((event.type, event.occurred_at), ("deleted", None))
        self.assertEqual(event.details, {"activity": f"{STATUS}111222333444555601#delete"})
        self.assertEqual(deleted.versions.get().text, "Sagostunden i morgon är inställd.")
        self.assertFalse(Item.objects.get(remote_id=f"{STATUS}111222333444555602").events.exists())
        boost = Item.objects.get(remote_id=f"{STATUS}111222333444555603/activity")
        self.assertEqual(
            (boost.kind, boost.parent_remote_id),
            ("share", "https://kommun.example/users/kommunen/statuses/777"),
        )
        self.assertFalse(Item.objects.filter(remote_id__contains="likes").exists())

        (self.tmp / "again").mkdir()
        again = self.run_import(
            export_folder(self.tmp / "again", outbox="outbox__delete_like_announce.json")
        )
        self.assertEqual((again["items"], again["versions"], again["deletions"]), (0, 0, 0))
        self.assertEqual(again["duplicates_skipped"], 3 + 1)
        self.assertEqual(ItemEvent.objects.count(), 1)

    def test_a_delete_of_a_status_imported_earlier_is_recorded_on_it(self) -> None:
        self.run_import(export_folder(self.tmp))
        outbox = json.loads(fixture("outbox__delete_like_announce.json"))
        outbox["orderedItems"] = [
            {**outbox["orderedItems"][0], "published": "2026-03-08T12:00:00Z"}
        ]
        outbox["orderedItems"][0]["object"] = {
            "id": f"{STATUS}111222333444555002",
            "type": "Tombstone",
            "atomUri": f"{STATUS}111222333444555002",
        }
        later = self.tmp / "later"
        later.mkdir()
        report = self.run_import(export_folder(later, outbox=json.dumps(outbox).encode()))
        self.assertEqual((report["items"], report["deletions"], report["errors"]), (0, 1, []))
        event = ItemEvent.objects.get()
        self.assertEqual(event.item.remote_id, f"{STATUS}111222333444555002")
        self.assertEqual(
            event.occurred_at and event.occurred_at.isoformat(), "2026-03-08T12:00:00+00:00"
        )

    def test_an_update_of_a_status_is_its_next_version_and_of_a_profile_is_counted(
        self,
    ) -> None:
        outbox = json.loads(fixture("outbox__delete_like_announce.json"))
        create = outbox["orderedItems"][2]
        edited = json.loads(json.dumps(create))
        edited["type"] = "Update"
        edited["id"] = create["object"]["id"] + "#updates/1772791200"
        edited["object"]["content"] = "<p>Välkommen till bokcaféet på söndag!</p>"
        edited["object"]["updated"] = "2026-03-06T10:00:00Z"
        profile = {
            "id": "https://social.example/users/bibliotek#updates/1",
            "type": "Update",
            "actor": "https://social.example/users/bibliotek",
            "object": {"id": "https://social.example/users/bibliotek", "type": "Person"},
        }
        outbox["orderedItems"] = [create, edited, profile]
        report = self.run_import(export_folder(self.tmp, outbox=json.dumps(outbox).encode()))
        self.assertEqual((report["items"], report["versions"]), (1, 2), report)
        self.assertEqual(
            report["errors"], ["skipped 1 Update of a Person object(s): not archived items"]
        )
        item = Item.objects.get(remote_id=f"{STATUS}111222333444555602")
        self.assertEqual(
            list(item.versions.order_by("number").values_list("text", flat=True)),
            ["Välkommen till bokcaféet på lördag!", "Välkommen till bokcaféet på söndag!"],
        )

    def test_a_delete_without_an_object_is_refused_naming_the_item(self) -> None:
        outbox = json.loads(fixture("outbox__delete_like_announce.json"))
        del outbox["orderedItems"][0]["object"]
        self.assert_refused(
            export_folder(self.tmp, outbox=json.dumps(outbox).encode()),
            f"outbox.json: item 1 ({STATUS}111222333444555601#delete): "
            "Delete without the id of what it deletes",
        )

    def test_a_cut_off_outbox_is_refused_and_nothing_is_stored(self) -> None:
        self.run_import(export_folder(self.tmp))
        data = fixture("outbox__repeated_ordered_items.json")
        cut = self.tmp / "cut"
        cut.mkdir()
        self.assert_refused(
            export_folder(cut, outbox=data[: len(data) // 2]), "outbox.json", "byte"
        )

    def test_a_corrupt_tar_gz_is_refused(self) -> None:
        data = export_tar(self.tmp).read_bytes()
        corrupt = self.tmp / "corrupt.tar.gz"
        corrupt.write_bytes(data[:200] + b"\x00" * 64 + data[264:])
        self.assert_refused(corrupt, "corrupt.tar.gz")

    def test_a_note_without_a_date_is_refused_naming_the_record(self) -> None:
        self.assert_refused(
            export_folder(self.tmp, outbox="outbox__note_without_published.json"),
            "outbox.json: item 3",
            "111222333444555003",
            "missing 'published'",
        )

    def test_an_export_without_an_outbox_is_refused(self) -> None:
        (self.tmp / "empty").mkdir()
        self.assert_refused(self.tmp / "empty", "no outbox.json")

    def test_the_unpacked_archive_is_removed_on_close(self) -> None:
        importer = MastodonExportImporter(export_tar(self.tmp), account_handle="@bibliotek")
        self.assertEqual(importer.validate(), 5)
        unpacked = importer._tmp
        assert unpacked is not None
        self.assertTrue(unpacked.exists())
        importer.close()
        self.assertFalse(unpacked.exists())


class HtmlToTextTests(NarvaroTestCase):
    def test_paragraphs_and_breaks_become_lines(self) -> None:
        self.assertEqual(html_to_text("<p>a<br>b</p><p>c &lt; d</p>"), "a\nb\n\nc < d")


class TruncatedMastodonExportTests(HypothesisTestCase, NarvaroTestCase):
    """Whatever the cut, the import either fails cleanly or succeeds."""

    @settings(max_examples=25, deadline=None)
    @given(cut=st.integers(min_value=0, max_value=4000), in_tar=st.booleans())
    def test_a_cut_export_fails_cleanly_or_imports(self, cut: int, in_tar: bool) -> None:
        tmp = Path(tempfile.mkdtemp(prefix="narvaro-test-"))
        try:
            if in_tar:
                data = export_tar(tmp).read_bytes()
                path = tmp / "cut.tar.gz"
                path.write_bytes(data[: cut % len(data)])
            else:
                data = fixture("outbox__repeated_ordered_items.json")
                path = export_folder(tmp, outbox=data[: cut * 2 % len(data)])
            importer = MastodonExportImporter(path, account_handle="@bibliotek@social.example")
            try:
                try:
                    importer.validate()
                except ImportFormatError:
                    return
                for batch in importer.batches(2):
                    import_batch_store(account=self.account_a, batch=batch, format_name="mastodon")
            finally:
                importer.close()
            self.assertLessEqual(Item.objects.count(), 5)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

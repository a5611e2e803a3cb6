"""`narvaro import facebook|instagram`: Meta's "download your information" JSON exports."""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from narvaro.archive.models import Item, ItemVersion, VersionMedia
from narvaro.channels.importers.base import ImportFormatError
from narvaro.channels.importers.meta import (
    FacebookPageImporter,
    InstagramImporter,
    derived_remote_id,
    repair_text,
)
from narvaro.channels.services import import_batch_store
from narvaro.lib.testing import NarvaroTestCase

FIXTURES = Path(__file__).parent / "fixtures"
FB_MEDIA = "your_facebook_activity/posts/media/Biblioteket_8Yh2/471234567890123_n.png"
FB_GONE = "your_facebook_activity/posts/media/Biblioteket_8Yh2/471234567890999_n.jpg"
IG_MEDIA = "media/posts/202603/17922334455667788.png"
IG_GONE = "media/posts/202603/17922334455667799.jpg"

FACEBOOK_LAYOUTS = {
    "new": (
        "your_facebook_activity/posts/your_posts__check_ins__photos_and_videos_1.json",
        "your_facebook_activity/comments_and_reactions/comments.json",
    ),
    "old": ("posts/your_posts_1.json", "comments/comments.json"),
}
INSTAGRAM_LAYOUTS = {
    "new": (
        "your_instagram_activity/content/posts_1.json",
        "your_instagram_activity/comments/post_comments_1.json",
    ),
    "old": ("content/posts_1.json", "comments/post_comments_1.json"),
}


def fixture(source: str, name: str) -> bytes:
    return (FIXTURES / source / name).read_bytes()


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def export_folder(
    parent: Path,
    source: str,
    *,
    layout: str = "new",
    posts: bytes | None = None,
    comments: bytes | None = None,
) -> Path:
    """An unpacked export in one of the layouts Meta has used, built from the fixtures."""
    folder = parent / f"{source}-stadsbiblioteket-2026-03-08"
    layouts = FACEBOOK_LAYOUTS if source == "facebook" else INSTAGRAM_LAYOUTS
    posts_path, comments_path = layouts[layout]
    write(folder / posts_path, posts or fixture(source, "posts__mojibake.json"))
    write(folder / comments_path, comments or fixture(source, "comments__mojibake.json"))
    write(
        folder / (FB_MEDIA if source == "facebook" else IG_MEDIA),
        fixture(source, "media__reading_room.png"),
    )
    return folder


def export_zip(parent: Path, source: str, **kwargs: Any) -> Path:
    """The same export as the .zip Meta hands out (files at the top level)."""
    folder = export_folder(parent, source, **kwargs)
    target = parent / f"{source}-stadsbiblioteket.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(folder).as_posix())
    return target


class ImportMetaTestCase(NarvaroTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.tmp = Path(tempfile.mkdtemp(prefix="narvaro-test-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def run_import(self, fmt: str, path: Path) -> dict[str, Any]:
        out = io.StringIO()
        call_command(
            "import", fmt, str(path), "--account", f"{fmt}:stadsbiblioteket", "--unit", "kultur",
            "--json", stdout=out,
        )  # fmt: skip
        return json.loads(out.getvalue())  # type: ignore[no-any-return]

    def counts(self) -> tuple[int, int, int]:
        return Item.objects.count(), ItemVersion.objects.count(), VersionMedia.objects.count()

    def assert_refused(self, fmt: str, path: Path, *needles: str) -> None:
        before = self.counts()
        out = io.StringIO()
        with self.assertRaises(SystemExit):
            call_command(
                "import", fmt, str(path), "--account", f"{fmt}:stadsbiblioteket", "--unit",
                "kultur", "--json", stdout=out,
            )  # fmt: skip
        report = json.loads(out.getvalue())
        for needle in needles:
            self.assertIn(needle, report["errors"][0])
        self.assertEqual(self.counts(), before)


class RepairTextTests(NarvaroTestCase):
    def test_mojibake_is_repaired(self) -> None:
        mojibake = "Bibliotekets \u00c3\u00b6ppettider"
        self.assertEqual(repair_text(mojibake), "Bibliotekets öppettider")

    def test_emoji_written_as_mojibake_are_repaired(self) -> None:
        self.assertEqual(
            repair_text("V\u00c3\u00a4lkommen \u00f0\u009f\u0098\u008a"), "Välkommen 😊"
        )

    def test_correct_text_is_left_alone(self) -> None:
        for text in ["Bibliotekets öppettider", "café", "plain", "Välkommen 😊"]:
            self.assertEqual(repair_text(text), text)


class ImportFacebookTests(ImportMetaTestCase):
    def test_it_imports_a_zip_export(self) -> None:
        report = self.run_import("facebook", export_zip(self.tmp, "facebook"))
        self.assertEqual(
            report,
            {
                "items": 5,
                "versions": 5,
                "deletions": 0,
                "media": 1,
                "duplicates_skipped": 0,
                "media_missing": 1,
                "errors": [f"missing media: {FB_GONE}"],
            },
        )
        self.assertEqual(Item.objects.filter(account__handle="stadsbiblioteket").count(), 5)

    def test_the_older_layout_is_found_too(self) -> None:
        report = self.run_import("facebook", export_folder(self.tmp, "facebook", layout="old"))
        self.assertEqual((report["items"], report["media"], report["media_missing"]), (5, 1, 1))

    def test_text_is_repaired_and_the_raw_payload_kept(self) -> None:
        self.run_import("facebook", export_folder(self.tmp, "facebook"))
        version = ItemVersion.objects.get(text__startswith="Bibliotekets")
        self.assertEqual(
            version.text, "Bibliotekets öppettider i sommar: 10–16 på vardagar. Välkomna!"
        )
        self.assertIn("Bibliotekets \u00c3\u00b6ppettider", version.raw_payload)
        item = version.item
        self.assertEqual(
            (item.kind, item.direction, item.platform), ("post", "drawn_up", "facebook")
        )
        self.assertEqual(item.created_at.isoformat(), "2026-03-05T09:00:00+00:00")
        self.assertEqual(
            item.remote_id,
            derived_remote_id(
                kind="facebook-post",
                timestamp=1772701200,
                author="stadsbiblioteket",
                text=version.text,
            ),
        )

    def test_photos_and_comments_are_stored(self) -> None:
        self.run_import("facebook", export_folder(self.tmp, "facebook"))
        photo = VersionMedia.objects.get(original_name=FB_MEDIA)
        self.assertFalse(photo.missing)
        self.assertEqual(photo.alt_text, "Läsesalen med nya fåtöljer")
        self.assertEqual(photo.version.text, "Nu är läsesalen öppen igen 📚")
        self.assertTrue(VersionMedia.objects.get(original_name=FB_GONE).missing)
        comment = Item.objects.get(kind="comment", created_at__day=6)
        self.assertEqual(comment.author_name, "Stadsbiblioteket Växjö")
        self.assertEqual(
            comment.versions.get().text, "Tack Anna! Ja, lånekortet gäller på alla filialer."
        )

    def test_a_second_import_adds_nothing(self) -> None:
        export = export_zip(self.tmp, "facebook")
        self.run_import("facebook", export)
        before = self.counts()
        report = self.run_import("facebook", export)
        self.assertEqual((report["items"], report["versions"]), (0, 0))
        self.assertEqual(report["duplicates_skipped"], 5)
        self.assertEqual(self.counts(), before)

    def test_a_cut_off_file_is_refused_and_nothing_is_stored(self) -> None:
        self.run_import("facebook", export_folder(self.tmp, "facebook"))
        data = fixture("facebook", "posts__mojibake.json")
        cut = self.tmp / "cut"
        self.assert_refused(
            "facebook",
            export_folder(cut, "facebook", posts=data[: len(data) // 2]),
            "your_posts__check_ins__photos_and_videos_1.json",
            "by byte",
        )

    def test_a_corrupt_zip_is_refused(self) -> None:
        data = export_zip(self.tmp, "facebook").read_bytes()
        corrupt = self.tmp / "corrupt.zip"
        corrupt.write_bytes(data[: len(data) - 30])
        self.assert_refused("facebook", corrupt, "corrupt.zip")

    def test_a_post_without_a_timestamp_is_refused_naming_the_record(self) -> None:
        self.assert_refused(
            "facebook",
            export_folder(
                self.tmp, "facebook", posts=fixture("facebook", "posts__without_timestamp.json")
            ),
            "your_posts__check_ins__photos_and_videos_1.json: record 2",
            "'timestamp'",
        )

    def test_an_export_without_posts_or_comments_is_refused(self) -> None:
        (self.tmp / "empty" / "your_facebook_activity").mkdir(parents=True)
        self.assert_refused("facebook", self.tmp / "empty", "no facebook posts or comments")


class ImportInstagramTests(ImportMetaTestCase):
    def test_it_imports_a_zip_export(self) -> None:
        report = self.run_import("instagram", export_zip(self.tmp, "instagram"))
        self.assertEqual(
            report,
            {
                "items": 4,
                "versions": 4,
                "deletions": 0,
                "media": 2,
                "duplicates_skipped": 0,
                "media_missing": 1,
                "errors": [f"missing media: {IG_GONE}"],
            },
        )

    def test_the_older_layout_is_found_too(self) -> None:
        report = self.run_import("instagram", export_folder(self.tmp, "instagram", layout="old"))
        self.assertEqual(report["items"], 4)

    def test_captions_and_comments_are_repaired(self) -> None:
        self.run_import("instagram", export_folder(self.tmp, "instagram"))
        texts = set(ItemVersion.objects.values_list("text", flat=True))
        self.assertEqual(
            texts,
            {
                "Bibliotekets öppettider i sommar ☀️ #växjö",
                "Författarkväll med Åsa – bilder från kvällen",
                "Tack för att ni kom! 💛",
                "Så roligt att höra, välkommen tillbaka!",
            },
        )
        album = Item.objects.get(versions__text__startswith="Författarkväll")
        self.assertEqual(album.versions.get().attachments.count(), 2)
        self.assertEqual(Item.objects.filter(kind="comment", platform="instagram").count(), 2)

    def test_a_second_import_adds_nothing(self) -> None:
        export = export_folder(self.tmp, "instagram")
        self.run_import("instagram", export)
        report = self.run_import("instagram", export)
        self.assertEqual((report["items"], report["duplicates_skipped"]), (0, 4))

    def test_a_comment_without_a_time_is_refused(self) -> None:
        self.run_import("instagram", export_folder(self.tmp, "instagram"))
        again = self.tmp / "again"
        self.assert_refused(
            "instagram",
            export_folder(
                again, "instagram", comments=fixture("instagram", "comments__without_time.json")
            ),
            "post_comments_1.json: record 2",
            "'Time'",
        )


class TruncatedMetaExportTests(HypothesisTestCase, NarvaroTestCase):
    """Whatever the cut, the import either fails cleanly or succeeds."""

    @settings(max_examples=25, deadline=None)
    @given(
        cut=st.integers(min_value=0, max_value=6000),
        source=st.sampled_from(["facebook", "instagram"]),
        in_zip=st.booleans(),
    )
    def test_a_cut_export_fails_cleanly_or_imports(
        self, cut: int, source: str, in_zip: bool
    ) -> None:
        importer_class = FacebookPageImporter if source == "facebook" else InstagramImporter
        tmp = Path(tempfile.mkdtemp(prefix="narvaro-test-"))
        try:
            if in_zip:
                data = export_zip(tmp, source).read_bytes()
                path = tmp / "cut.zip"
                path.write_bytes(data[: cut % (len(data) + 1)])
            else:
                posts = fixture(source, "posts__mojibake.json")
                path = export_folder(tmp, source, posts=posts[: cut % (len(posts) + 1)] or b" ")
            importer = importer_class(path, account_handle="stadsbiblioteket")
            try:
                try:
                    importer.validate()
                except ImportFormatError:
                    return
                for batch in importer.batches(2):
                    import_batch_store(account=self.account_a, batch=batch, format_name=source)
            finally:
                importer.close()
            self.assertLessEqual(Item.objects.count(), 5)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

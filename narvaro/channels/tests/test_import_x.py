"""`narvaro import x`: the X archive (.zip or folder) becomes items, versions and events."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import SimpleTestCase
from hypothesis import given, settings
from hypothesis import strategies as st

from narvaro.archive.models import ChainHead, Item, ItemEvent, ItemVersion, MediaFile, VersionMedia
from narvaro.channels import services as channel_services
from narvaro.channels.importers.base import ImportFormatError
from narvaro.channels.importers.x import XArchiveImporter
from narvaro.channels.models import Account
from narvaro.core.models import AuditEvent
from narvaro.lib.testing import NarvaroTestCase

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "x" / "archive__small"
# An edit chain of three tweets (in the file out of edit order), a reply to the last edit,
# and a deleted chain of two: the real tweets.js form with edit_info "initial" and "edit".
EDITED = Path(__file__).resolve().parent / "fixtures" / "x" / "archive__edited"
CHAIN = ["2031000000000000001", "2031000000000000105", "2031000000000000230"]
REPLY_TO_EDIT = "2031000000000000400"
DELETED_CHAIN = ["2031000000000000500", "2031000000000000561"]
SHARED_ARCHIVE = Path(__file__).resolve().parents[3] / ".." / "shared" / "testdata" / "x-archive"
SHARED_MISSING = f"{SHARED_ARCHIVE} is absent (the shared test data is not checked out here)"
OWNER_ID = "1700000000000000001"


def read_ytd_json(path: Path) -> list[Any]:
    """A window.YTD file read the simple way (whole file), to count independently."""
    text = path.read_text(encoding="utf-8")
    return json.loads(text[text.index("=") + 1 :])  # type: ignore[no-any-return]


def zip_folder(folder: Path, target: Path, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """The archive as users upload it: the folder's contents zipped."""
    with zipfile.ZipFile(target, "w", compression) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return target


def write_ytd(path: Path, name: str, records: list[Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps(records, indent=1, ensure_ascii=False)
    path.write_text(f"window.YTD.{name}.part0 = {body}", encoding="utf-8")


def write_archive(root: Path, *, tweets: int, deleted: int, messages: int) -> Path:
    """A generated archive in the X format: replies every third tweet, retweets every seventh."""
    write_ytd(
        root / "data" / "account.js",
        "account",
        [{"account": {"username": "strandvik", "accountId": OWNER_ID, "accountDisplayName": "S"}}],
    )
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def tweet(number: int) -> dict[str, Any]:
        tweet_id = str(2_030_000_000_000_000_000 + number)
        text = f"Meddelande nummer {number} från kommunen"
        record: dict[str, Any] = {
            "id_str": tweet_id,
            "id": tweet_id,
            "created_at": (start + dt.timedelta(minutes=number)).strftime(
                "%a %b %d %H:%M:%S +0000 %Y"
            ),
            "full_text": f"RT @trafikverket: {text}" if number % 7 == 0 else text,
            "entities": {"hashtags": [], "urls": []},
            "favorite_count": "0",
        }
        if number % 3 == 1:
            parent = str(2_030_000_000_000_000_000 + number - 1)
            record.update(in_reply_to_status_id_str=parent, in_reply_to_status_id=parent)
        return record

    write_ytd(root / "data" / "tweets.js", "tweets", [{"tweet": tweet(n)} for n in range(tweets)])
    write_ytd(
        root / "data" / "deleted-tweets.js",
        "deleted_tweets",
        [
            {"tweet": {**tweet(tweets + n), "deleted_at": "Sun Mar 01 10:00:00 +0000 2026"}}
            for n in range(deleted)
        ],
    )
    dms = [
        {
            "messageCreate": {
                "id": str(2_040_000_000_000_000_000 + n),
                "senderId": OWNER_ID if n % 2 else "42",
                "recipientId": "42" if n % 2 else OWNER_ID,
                "text": f"Fråga {n}",
                "createdAt": f"2026-02-01T10:{n % 60:02d}:00.000Z",
            }
        }
        for n in range(messages)
    ]
    write_ytd(
        root / "data" / "direct-messages.js",
        "direct_messages",
        [{"dmConversation": {"conversationId": f"42-{OWNER_ID}", "messages": dms}}],
    )
    return root


def archive_rows() -> dict[str, int]:
    """Rows an import could add anywhere, to show a failed import added none."""
    return {
        model.__name__: model.objects.count()
        for model in (
            Item,
            ItemVersion,
            ItemEvent,
            MediaFile,
            VersionMedia,
            ChainHead,
            Account,
            AuditEvent,
        )
    }


class XImportTestCase(NarvaroTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.tmp = Path(tempfile.mkdtemp(prefix="narvaro-x-test-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def run_import(self, path: Path) -> dict[str, Any]:
        out = io.StringIO()
        call_command(
            "import", "x", str(path), "--account", "x:@strandvik", "--unit", "kultur", "--json",
            stdout=out,
        )  # fmt: skip
        return json.loads(out.getvalue())  # type: ignore[no-any-return]

    def fixture_copy(self) -> Path:
        return Path(shutil.copytree(FIXTURE, self.tmp / "archive"))


class XArchiveImportTests(XImportTestCase):
    def test_posts_replies_shares_and_dms_keep_their_kind_direction_and_thread(self) -> None:
        self.run_import(FIXTURE)
        items = {item.remote_id: item for item in Item.objects.all()}
        self.assertEqual(
            {remote_id: (item.kind, item.direction) for remote_id, item in items.items()},
            {
                "2029000000000000001": ("post", "drawn_up"),
                "2029000000000000002": ("reply", "drawn_up"),
                "2029000000000000003": ("reply", "drawn_up"),
                "2029000000000000004": ("share", "drawn_up"),
                "2029000000000000005": ("post", "drawn_up"),
                "2029000000000000006": ("post", "drawn_up"),
                "2029000000000000301": ("dm", "received"),
                "2029000000000000302": ("dm", "drawn_up"),
            },
        )
        reply = items["2029000000000000003"]
        self.assertEqual(reply.parent_remote_id, "2029000000000000002")
        # The thread is the root of the reply chain, two steps up.
        self.assertEqual(reply.thread_remote_id, "2029000000000000001")
        self.assertEqual(reply.permalink, "https://x.com/strandvik/status/2029000000000000003")
        self.assertEqual(reply.created_at, dt.datetime(2026, 3, 4, 15, 30, tzinfo=dt.UTC))
        self.assertEqual(
            items["2029000000000000301"].thread_remote_id, f"1600000000000000042-{OWNER_ID}"
        )

    def test_the_raw_payload_is_the_tweet_verbatim_and_the_text_is_unescaped(self) -> None:
        self.run_import(FIXTURE)
        version = ItemVersion.objects.get(item__remote_id="2029000000000000001")
        tweet = read_ytd_json(FIXTURE / "data" / "tweets.js")[0]["tweet"]
        self.assertEqual(version.raw_payload, json.dumps(tweet, ensure_ascii=False))
        self.assertTrue(
            (version.text or "").startswith("Biblioteket har öppet till 20 i kväll & i morgon")
        )

    def test_present_media_are_stored_with_alt_text_and_absent_ones_reported_missing(self) -> None:
        report = self.run_import(FIXTURE)
        self.assertEqual((report["media"], report["media_missing"]), (1, 1))
        self.assertEqual(
            report["errors"], ["missing media: 2029000000000000005-HCccccccWoAAdddd.jpg"]
        )
        stored = VersionMedia.objects.get(missing=False)
        self.assertEqual(stored.alt_text, "Biblioteket i Strandvik en vinterkväll")
        self.assertEqual(stored.original_name, "2029000000000000001-HCaaaaaaWoAAbbbb.png")

    def test_a_deleted_tweet_is_an_item_with_a_deletion_at_its_deleted_at(self) -> None:
        report = self.run_import(FIXTURE)
        self.assertEqual(report["deletions"], 1)
        event = ItemEvent.objects.get()
        self.assertEqual((event.item.remote_id, event.type), ("2029000000000000006", "deleted"))
        self.assertEqual(event.occurred_at, dt.datetime(2026, 3, 5, 9, 20, tzinfo=dt.UTC))


class XEditChainTests(XImportTestCase):
    """An edited tweet is one item: the initial tweet's id, one version per edit, in order."""

    def snapshot(self) -> list[tuple[Any, ...]]:
        return list(
            ItemVersion.objects.order_by("item__remote_id", "number").values_list(
                "item__remote_id", "number", "text", "content_digest", "payload_digest"
            )
        )

    def test_the_tweets_of_an_edit_chain_become_one_item_with_a_version_per_edit(self) -> None:
        report = self.run_import(EDITED)
        self.assertEqual(
            (report["items"], report["versions"], report["deletions"]), (3, 6, 1), report
        )
        self.assertEqual(
            set(Item.objects.values_list("remote_id", flat=True)),
            {CHAIN[0], REPLY_TO_EDIT, DELETED_CHAIN[0]},
        )
        edited = Item.objects.get(remote_id=CHAIN[0])
        versions = list(edited.versions.order_by("number"))
        # Version n is the n-th tweet of editTweetIds, its payload that tweet verbatim.
        self.assertEqual(
            [(v.number, json.loads(v.raw_payload or "")["id_str"]) for v in versions],
            [(1, CHAIN[0]), (2, CHAIN[1]), (3, CHAIN[2])],
        )
        self.assertEqual(
            [v.text for v in versions],
            [
                "Simhallen stänger kl 18 i dag",
                "Simhallen stänger kl 17 i dag",
                "Simhallen stänger kl 17 i dag på grund av ett tekniskt fel",
            ],
        )
        self.assertEqual(edited.created_at, dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC))
        self.assertEqual(edited.permalink, f"https://x.com/strandvik/status/{CHAIN[0]}")
        # A reply to the last edit answers the edited item.
        reply = Item.objects.get(remote_id=REPLY_TO_EDIT)
        self.assertEqual((reply.parent_remote_id, reply.thread_remote_id), (CHAIN[0], CHAIN[0]))
        # The deleted chain: two versions, and the one deletion its tweets share.
        deleted = Item.objects.get(remote_id=DELETED_CHAIN[0])
        self.assertEqual(
            list(deleted.versions.order_by("number").values_list("text", flat=True)),
            ["Bokcirkeln träffas på torsdag", "Bokcirkeln träffas på fredag"],
        )
        self.assertEqual(
            list(deleted.events.values_list("type", "occurred_at")),
            [("deleted", dt.datetime(2026, 3, 11, 12, 0, tzinfo=dt.UTC))],
        )

    def test_a_second_import_adds_nothing(self) -> None:
        self.run_import(EDITED)
        before = self.snapshot()
        again = self.run_import(EDITED)
        self.assertEqual((again["items"], again["versions"], again["deletions"]), (0, 0, 0))
        self.assertEqual(again["duplicates_skipped"], 6 + 1)
        self.assertEqual(self.snapshot(), before)

    def test_any_order_of_the_edits_in_the_file_and_any_batch_size_give_the_same_versions(
        self,
    ) -> None:
        tweets = read_ytd_json(EDITED / "data" / "tweets.js")
        orders = [list(reversed(tweets)), sorted(tweets, key=lambda r: r["tweet"]["id_str"])]
        shuffler = random.Random(20260310)
        for _ in range(4):
            orders.append(shuffler.sample(tweets, len(tweets)))
        with transaction.atomic():
            self.run_import(EDITED)
            expected = self.snapshot()
            transaction.set_rollback(True)
        self.assertEqual(len(expected), 6)
        for number, records in enumerate(orders):
            for batch_size in ("1", "500"):
                with self.subTest(
                    order=[r["tweet"]["id_str"][-3:] for r in records], size=batch_size
                ):
                    folder = Path(
                        shutil.copytree(EDITED, self.tmp / f"order-{number}-{batch_size}")
                    )
                    write_ytd(folder / "data" / "tweets.js", "tweets", records)
                    with transaction.atomic():
                        call_command(
                            "import", "x", str(folder), "--account", "x:@strandvik",
                            "--unit", "kultur", "--batch-size", batch_size, "--json",
                            stdout=io.StringIO(),
                        )  # fmt: skip
                        self.assertEqual(self.snapshot(), expected)
                        transaction.set_rollback(True)

    def test_the_record_page_shows_every_version_with_the_differences(self) -> None:
        self.run_import(EDITED)
        item = Item.objects.get(remote_id=CHAIN[0])
        response = self.client_for(self.rita).get(item.get_absolute_url())
        self.assertContains(response, "3 versions")
        for number in (1, 2, 3):
            self.assertContains(response, f'id="version-{number}"')
        self.assertContains(response, "− Simhallen stänger kl 18 i dag</del>")
        self.assertContains(response, "+ Simhallen stänger kl 17 i dag</ins>")
        self.assertContains(
            response, "+ Simhallen stänger kl 17 i dag på grund av ett tekniskt fel</ins>"
        )

    def test_an_edit_without_its_initial_tweet_id_is_refused_naming_the_record(self) -> None:
        channel_services.account_create(
            actor=None, unit=self.unit_a, platform="x", handle="@strandvik"
        )
        folder = Path(shutil.copytree(EDITED, self.tmp / "broken"))
        tweets = folder / "data" / "tweets.js"
        records = read_ytd_json(tweets)
        del records[1]["tweet"]["edit_info"]["edit"]["initialTweetId"]
        write_ytd(tweets, "tweets", records)
        before = archive_rows()
        with self.assertRaisesMessage(
            CommandError,
            f"Nothing was imported. {tweets}: record 2: tweet {CHAIN[2]}: "
            "edit_info.edit has no initialTweetId",
        ):
            call_command("import", "x", str(folder), "--account", "x:@strandvik")
        self.assertEqual(archive_rows(), before)


class XArchiveFailureTests(XImportTestCase):
    """A broken archive is refused whole: the message names file and position, nothing is stored."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        # An account already in the register, so the command itself creates nothing either.
        channel_services.account_create(
            actor=None, unit=cls.unit_a, platform="x", handle="@strandvik"
        )

    def assert_refused(self, path: Path, message: str) -> None:
        before = archive_rows()
        with self.assertRaisesMessage(CommandError, f"Nothing was imported. {message}"):
            call_command("import", "x", str(path), "--account", "x:@strandvik")
        self.assertEqual(archive_rows(), before)

    def test_a_truncated_zip_is_refused_naming_the_zip(self) -> None:
        archive = zip_folder(FIXTURE, self.tmp / "archive.zip")
        archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
        self.assert_refused(archive, f"{archive}: zip: not a readable zip file:")

    def test_a_zip_member_with_a_bad_checksum_is_refused_naming_it(self) -> None:
        archive = zip_folder(FIXTURE, self.tmp / "archive.zip", zipfile.ZIP_STORED)
        data = bytearray(archive.read_bytes())
        spot = data.index("Snöröjningen".encode())
        data[spot : spot + 4] = b"SNOW"
        archive.write_bytes(bytes(data))
        self.assert_refused(archive, f"{archive}: data/tweets.js: damaged zip: Bad CRC-32")

    def test_a_tweets_file_cut_in_the_middle_is_refused_naming_the_record(self) -> None:
        folder = self.fixture_copy()
        tweets = folder / "data" / "tweets.js"
        data = tweets.read_bytes()
        tweets.write_bytes(data[: data.index(b'"2029000000000000003"') + 5])
        self.assert_refused(folder, f"{tweets}: record 3: parse error: premature EOF")

    def test_a_tweet_without_id_str_is_refused_naming_the_record(self) -> None:
        folder = self.fixture_copy()
        tweets = folder / "data" / "tweets.js"
        records = read_ytd_json(tweets)
        del records[3]["tweet"]["id_str"]
        write_ytd(tweets, "tweets", records)
        self.assert_refused(folder, f"{tweets}: record 4: tweet has no id_str")

    def test_a_file_without_the_window_ytd_prefix_is_refused(self) -> None:
        folder = self.fixture_copy()
        deleted = folder / "data" / "deleted-tweets.js"
        deleted.write_text(json.dumps(read_ytd_json(deleted)), encoding="utf-8")
        self.assert_refused(
            folder, f"{deleted}: byte 0: does not start with 'window.YTD.<name>.part<N> ='"
        )

    def test_a_deleted_tweet_without_deleted_at_is_refused(self) -> None:
        folder = self.fixture_copy()
        deleted = folder / "data" / "deleted-tweets.js"
        records = read_ytd_json(deleted)
        del records[0]["tweet"]["deleted_at"]
        write_ytd(deleted, "deleted_tweets", records)
        self.assert_refused(
            folder,
            f"{deleted}: record 1: deleted tweet 2029000000000000006: no readable deleted_at",
        )

    def test_a_message_without_a_sender_is_refused_naming_record_and_message(self) -> None:
        folder = self.fixture_copy()
        dms = folder / "data" / "direct-messages.js"
        records = read_ytd_json(dms)
        del records[0]["dmConversation"]["messages"][1]["messageCreate"]["senderId"]
        write_ytd(dms, "direct_messages", records)
        self.assert_refused(folder, f"{dms}: record 1: message 2: message has no senderId")

    def test_a_folder_that_is_not_an_x_archive_is_refused(self) -> None:
        self.assert_refused(self.tmp, f"{self.tmp}: folder: not an X archive: no data/account.js")


class XArchiveTruncationTests(SimpleTestCase):
    """Validation never crashes on a cut file: it refuses it cleanly, or accepts valid JSON."""

    @settings(max_examples=25, deadline=None)
    @given(st.data())
    def test_a_tweets_file_cut_anywhere_is_refused_cleanly(self, data: st.DataObject) -> None:
        original = (FIXTURE / "data" / "tweets.js").read_bytes()
        cut = data.draw(st.integers(min_value=0, max_value=len(original) - 1), label="cut")
        with tempfile.TemporaryDirectory(prefix="narvaro-x-cut-") as tmp:
            folder = Path(shutil.copytree(FIXTURE, Path(tmp) / "archive"))
            (folder / "data" / "tweets.js").write_bytes(original[:cut])
            importer = XArchiveImporter(folder, account_handle="@strandvik")
            try:
                importer.validate()
            except ImportFormatError as exc:
                self.assertTrue(exc.file.endswith("tweets.js"), exc.file)
                self.assertRegex(exc.position, r"^(record \d+|byte \d+)$")
            finally:
                importer.close()


class SharedXArchiveTests(XImportTestCase):
    """The real archive in ../shared/testdata: counted independently, then imported."""

    def setUp(self) -> None:
        if not (SHARED_ARCHIVE / "data" / "tweets.js").is_file():
            self.skipTest(SHARED_MISSING)
        super().setUp()

    def expected(self) -> dict[str, int]:
        data = SHARED_ARCHIVE / "data"
        tweets = read_ytd_json(data / "tweets.js")
        deleted = read_ytd_json(data / "deleted-tweets.js")
        conversations = read_ytd_json(data / "direct-messages.js")
        named_media = sum(
            len(record["tweet"].get("extended_entities", {}).get("media", []))
            for record in tweets + deleted
        )
        files = list((data / "tweets_media").iterdir())
        return {
            "tweets": len(tweets),
            "deleted": len(deleted),
            "dms": sum(len(c["dmConversation"]["messages"]) for c in conversations),
            "media": len(files),
            # Retweets of one's own photo carry the same bytes under two names.
            "distinct_media": len({hashlib.sha256(f.read_bytes()).digest() for f in files}),
            "missing": named_media - len(files),
        }

    def test_every_tweet_deletion_dm_and_medium_is_imported_and_a_rerun_adds_nothing(
        self,
    ) -> None:
        expected = self.expected()
        self.assertEqual(expected["media"], 21)
        report = self.run_import(zip_folder(SHARED_ARCHIVE, self.tmp / "x.zip"))
        items = expected["tweets"] + expected["deleted"] + expected["dms"]
        self.assertEqual(report["items"], items)
        self.assertEqual(report["versions"], items)
        self.assertEqual(Item.objects.filter(kind="dm").count(), expected["dms"])
        self.assertEqual(report["deletions"], expected["deleted"])
        self.assertEqual(ItemEvent.objects.filter(type="deleted").count(), expected["deleted"])
        self.assertEqual(report["media"], expected["media"])
        self.assertEqual(MediaFile.objects.count(), expected["distinct_media"])
        self.assertEqual(report["media_missing"], expected["missing"])
        self.assertEqual(len(report["errors"]), expected["missing"])
        self.assertTrue(all(line.startswith("missing media: ") for line in report["errors"]))

        again = self.run_import(SHARED_ARCHIVE)
        self.assertEqual((again["items"], again["versions"], again["deletions"]), (0, 0, 0))
        self.assertEqual(again["duplicates_skipped"], items + expected["deleted"])

    def test_the_zip_and_the_folder_give_the_same_result(self) -> None:
        def snapshot(path: Path) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
            with transaction.atomic():
                report = self.run_import(path)
                rows = list(
                    ItemVersion.objects.order_by("item__remote_id").values_list(
                        "item__remote_id",
                        "item__kind",
                        "item__direction",
                        "item__thread_remote_id",
                        "content_digest",
                        "payload_digest",
                    )
                )
                transaction.set_rollback(True)
            return report, rows

        from_folder = snapshot(SHARED_ARCHIVE)
        from_zip = snapshot(zip_folder(SHARED_ARCHIVE, self.tmp / "x.zip"))
        self.assertEqual(from_zip, from_folder)
        self.assertEqual(len(from_zip[1]), from_zip[0]["items"])


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "narvaro", *args],
        capture_output=True,
        text=True,
        env=cli_env(home),
        timeout=120,
        check=False,
    )


def cli_env(home: Path) -> dict[str, str]:
    env = {**os.environ, "NARVARO_HOME": str(home)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("NARVARO_DATABASE_URL", None)
    return env


def committed_items(home: Path) -> int:
    """Items the import has committed so far (WAL: reading never blocks the writer)."""
    with contextlib.closing(sqlite3.connect(home / "narvaro.sqlite3", timeout=30)) as db:
        return int(db.execute("SELECT COUNT(*) FROM archive_item").fetchone()[0])


def wait_for_committed(process: subprocess.Popen[bytes], home: Path, target: int) -> int:
    """Wait until the import has committed `target` items (or ended); return the count seen.

    Kill points are measured in the import's own committed progress, not in wall-clock
    time, so a slow or loaded machine moves them in time but not in the work done.
    """
    deadline = time.monotonic() + 300
    count = committed_items(home)
    while count < target and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
        count = committed_items(home)
    return count


class XImportKillTests(SimpleTestCase):
    """An import killed (SIGKILL) at random moments and re-run ends complete and intact."""

    # Room for ten kills on a fast machine: besides the 1 to 120 items each run is allowed,
    # the import goes on committing while the kill is being made (a few hundred items at
    # 10,000 items/s), so 2,150 items were all imported after seven kills on such a machine.
    TWEETS, DELETED, MESSAGES = 8000, 50, 100

    def test_an_import_killed_ten_times_then_rerun_stores_every_item_exactly_once(self) -> None:
        with tempfile.TemporaryDirectory(prefix="narvaro-x-kill-") as tmp:
            home = Path(tmp) / "home"
            archive = write_archive(
                Path(tmp) / "archive",
                tweets=self.TWEETS,
                deleted=self.DELETED,
                messages=self.MESSAGES,
            )
            # --skip-checks: this test is about the import, not the other apps' system checks.
            migrated = run_cli(home, "manage", "migrate", "-v0", "--skip-checks")
            self.assertEqual(migrated.returncode, 0, migrated.stderr)
            created = run_cli(
                home,
                "manage",
                "shell",
                "-c",
                "from narvaro.organisation.services import unit_create; "
                "unit_create(actor=None, slug='kultur', name='Kultur')",
            )
            self.assertEqual(created.returncode, 0, created.stderr)
            command = [
                sys.executable,
                "-m",
                "narvaro",
                "import",
                "x",
                str(archive),
                "--skip-checks",
            ]
            command += ["--account", "x:@strandvik", "--unit", "kultur", "--batch-size", "20"]
            items = self.TWEETS + self.DELETED + self.MESSAGES
            # Each run is killed once it has committed 1 to 120 more items (a batch holds at
            # most 20), sometimes a moment later so the kill can land inside a transaction.
            # Ten runs advance 1,200 items plus what commits while each kill is made, far from
            # the 8,150: every kill lands mid-import.
            kills: list[tuple[int, int, float]] = []
            partial: list[int] = []
            for _ in range(10):
                start = committed_items(home)
                target = start + random.randint(1, 120)
                extra = random.choice([0.0, random.uniform(0.0, 0.05)])
                process = subprocess.Popen(
                    command, env=cli_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
                reached = wait_for_committed(process, home, target)
                time.sleep(extra)
                alive = process.poll() is None
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                kills.append((target, reached, round(extra, 3)))
                partial.append(committed_items(home))
                context = (
                    f"kills (target, reached, extra delay) {kills}, items after each {partial}"
                )
                self.assertTrue(alive, f"the import ended before it was killed; {context}")
                self.assertGreaterEqual(reached, target, context)
                # Landed mid-import: it had committed more than before, and not everything.
                self.assertTrue(start < partial[-1] < items, context)

            final = run_cli(home, *command[3:], "--json")
            self.assertEqual(final.returncode, 0, final.stderr)
            report = json.loads(final.stdout)
            self.assertEqual(self.item_count(home), items, context)
            self.assertEqual(report["items"] + partial[-1], items, context)
            with contextlib.closing(sqlite3.connect(home / "narvaro.sqlite3")) as db:
                versions, distinct = db.execute(
                    "SELECT COUNT(*), COUNT(DISTINCT item_id) FROM archive_itemversion"
                ).fetchone()
                (deletions,) = db.execute(
                    "SELECT COUNT(*) FROM archive_itemevent WHERE type = 'deleted'"
                ).fetchone()
            self.assertEqual((versions, distinct, deletions), (items, items, self.DELETED))
            verify = run_cli(home, "verify", "--json", "--skip-checks")
            self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)
            self.assertTrue(json.loads(verify.stdout)["intact"])

    def item_count(self, home: Path) -> int:
        return committed_items(home)

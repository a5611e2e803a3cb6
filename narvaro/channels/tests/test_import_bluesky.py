"""`narvaro import bluesky`: repository CAR exports, real ones from the shared test data.

The counts below are checked against an independent reading of the same file: the blocks
libipld decodes from the CAR, grouped by their `$type`, without walking the tree.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import libipld
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import SimpleTestCase
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from narvaro.archive.models import ChainHead, Item, ItemEvent, ItemVersion, MediaFile, VersionMedia
from narvaro.channels import services as channel_services
from narvaro.channels.importers.base import ImportFormatError
from narvaro.channels.importers.bluesky import BlueskyRepoImporter, cid_str, parse_datetime
from narvaro.channels.models import Account
from narvaro.core.models import AuditEvent
from narvaro.lib.testing import NarvaroTestCase

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "testdata" / "bluesky"
CARS = ["greenground.repo.car", "fakermaker.repo.car", "snarfed2.car"]
FAKERMAKER = SHARED / "fakermaker.repo.car"
FAKERMAKER_DID = "did:plc:dpg45vsnuir2vqqqadsn6afg"
MISSING = f"shared Bluesky test data not found at {SHARED}"


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def sections(data: bytes) -> list[tuple[int, int, int]]:
    """(section start, data start, end) of each block: a plain second reading of the framing."""
    found = []

    def read_varint(pos: int) -> tuple[int, int]:
        value = shift = 0
        while True:
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value, pos

    length, pos = read_varint(0)
    pos += length
    while pos < len(data):
        start = pos
        length, pos = read_varint(pos)
        # CIDv1 dag-cbor sha2-256: 0x01 0x71 0x12 0x20 + 32 bytes.
        found.append((start, pos + 36, pos + length))
        pos += length
    return found


def car(root: bytes, blocks: list[bytes]) -> bytes:
    """A CAR v1 file of DAG-CBOR blocks, each addressed by its SHA-256 CID."""
    header = libipld.encode_dag_cbor({"version": 1, "roots": [root]})
    out = varint(len(header)) + header
    for block in blocks:
        section = cid_of(block) + block
        out += varint(len(section)) + section
    return out


def cid_of(block: bytes) -> bytes:
    return b"\x01\x71\x12\x20" + hashlib.sha256(block).digest()


def small_v2_repo(*, drop_record: int | None = None) -> tuple[bytes, list[bytes]]:
    """A v2 repository built in code: an obsolete vote record, odd timestamps, prefix keys."""
    records = {
        "app.bsky.feed.post/3jqfcqzm3fo2j": {
            "$type": "app.bsky.feed.post",
            "text": "Bibliotekets öppettider i jul",
            "createdAt": "2023-12-20T09:30:00.123456789Z",
        },
        "app.bsky.feed.post/3jqfcqzm3fp2j": {"$type": "app.bsky.feed.post", "text": "No date"},
        "app.bsky.feed.post/3jqfcqzm3fq2j": {
            "$type": "app.bsky.feed.post",
            "text": "Svar",
            "createdAt": "2023-12-20T10:00:00+01:00",
            "reply": {
                "root": {"uri": "at://did:plc:other/app.bsky.feed.post/1", "cid": "bafy1"},
                "parent": {"uri": "at://did:plc:other/app.bsky.feed.post/2", "cid": "bafy2"},
            },
            "embed": {
                "$type": "app.bsky.embed.recordWithMedia",
                "record": {"$type": "app.bsky.embed.record", "record": {"uri": "at://x/y/z"}},
                "media": {
                    "$type": "app.bsky.embed.images",
                    "images": [
                        {
                            "alt": "Granen på torget",
                            "image": {"cid": "bafkreilegacyblob", "mimeType": "image/png"},
                        }
                    ],
                },
            },
        },
        "app.bsky.feed.vote/3jqfcqzm3fr2j": {
            "$type": "app.bsky.feed.vote",
            "direction": "up",
            "createdAt": "2023-12-20T10:00:00Z",
        },
    }
    encoded = {key: libipld.encode_dag_cbor(value) for key, value in records.items()}
    entries = []
    previous = b""
    for key in sorted(encoded):
        full = key.encode()
        prefix = 0
        while prefix < min(len(full), len(previous)) and full[prefix] == previous[prefix]:
            prefix += 1
        entries.append({"p": prefix, "k": full[prefix:], "v": cid_of(encoded[key]), "t": None})
        previous = full
    node = libipld.encode_dag_cbor({"l": None, "e": entries})
    commit = libipld.encode_dag_cbor(
        {"did": "did:plc:kulturtest", "version": 2, "data": cid_of(node), "prev": None, "sig": b"s"}
    )
    record_blocks = [encoded[key] for key in sorted(encoded)]
    if drop_record is not None:
        del record_blocks[drop_record]
    blocks = [commit, node, *record_blocks]
    return car(cid_of(commit), blocks), blocks


class BlueskyImportTests(NarvaroTestCase):
    def setUp(self) -> None:
        super().setUp()
        folder = tempfile.TemporaryDirectory(prefix="narvaro-bluesky-")
        self.addCleanup(folder.cleanup)
        self.folder = Path(folder.name)

    def run_import(self, path: Path, handle: str = "kultur.bsky.social") -> dict[str, Any]:
        out = io.StringIO()
        call_command(
            "import",
            "bluesky",
            str(path),
            "--account",
            f"bluesky:{handle}",
            "--unit",
            "kultur",
            "--json",
            stdout=out,
        )
        return json.loads(out.getvalue())  # type: ignore[no-any-return]

    def write(self, name: str, data: bytes) -> Path:
        path = self.folder / name
        path.write_bytes(data)
        return path

    def counts(self) -> dict[str, int]:
        return {
            model.__name__: model.objects.count()
            for model in [
                Item,
                ItemVersion,
                ItemEvent,
                VersionMedia,
                MediaFile,
                ChainHead,
                Account,
                AuditEvent,
            ]
        }

    def assert_refused(self, path: Path, *fragments: str) -> str:
        """The import fails naming the file, and the database is exactly as before."""
        channel_services.account_for_import(
            spec="bluesky:kultur.bsky.social", platform="bluesky", unit_slug="kultur"
        )
        before = self.counts()
        with self.assertRaises(CommandError) as caught:
            call_command("import", "bluesky", str(path), "--account", "bluesky:kultur.bsky.social")
        message = str(caught.exception)
        self.assertIn(f"Nothing was imported. {path}: ", message)
        for fragment in fragments:
            self.assertIn(fragment, message)
        self.assertEqual(self.counts(), before)
        return message

    def test_each_shared_car_imports_without_error(self) -> None:
        if not SHARED.is_dir():
            self.skipTest(MISSING)
        for number, name in enumerate(CARS):
            with self.subTest(name=name):
                report = self.run_import(SHARED / name, handle=f"repo{number}.bsky.social")
                problems = [e for e in report["errors"] if not e.startswith(("skipped", "missing"))]
                self.assertEqual(problems, [])

    def test_fakermaker_yields_every_post_and_repost_it_holds(self) -> None:
        if not FAKERMAKER.exists():
            self.skipTest(MISSING)
        # Independent count: blocks by $type, straight from libipld, no tree walk.
        _, blocks = libipld.decode_car(FAKERMAKER.read_bytes())
        expected = {
            cid_str(cid): block["$type"]
            for cid, block in blocks.items()
            if isinstance(block, dict)
            and block.get("$type") in ("app.bsky.feed.post", "app.bsky.feed.repost")
        }
        self.assertEqual(len(expected), 41)

        report = self.run_import(FAKERMAKER)

        self.assertEqual(report["items"], 41)
        self.assertEqual(report["media_missing"], 1)
        self.assertIn(
            "skipped 78 app.bsky.graph.follow record(s): not archived items", report["errors"]
        )
        self.assertIn(
            "skipped 22 app.bsky.feed.like record(s): not archived items", report["errors"]
        )
        items = Item.objects.filter(platform="bluesky")
        seen = {}
        for item in items:
            payload = json.loads(item.versions.get().raw_payload)
            collection = payload["value"]["$type"]
            rkey = item.remote_id.rpartition("/")[2]
            self.assertEqual(item.remote_id, f"at://{FAKERMAKER_DID}/{collection}/{rkey}")
            self.assertEqual(payload["uri"], item.remote_id)
            self.assertRegex(rkey, r"^[234567a-z]{13}$")  # a TID record key
            seen[payload["cid"]] = collection
        self.assertEqual(seen, expected)
        kinds = {kind: items.filter(kind=kind).count() for kind in ["post", "reply", "share"]}
        self.assertEqual(kinds, {"post": 3, "reply": 23, "share": 15})

    def test_posts_keep_text_date_thread_and_permalink(self) -> None:
        if not FAKERMAKER.exists():
            self.skipTest(MISSING)
        self.run_import(FAKERMAKER)
        reply = Item.objects.filter(kind="reply").order_by("remote_id").first()
        assert reply is not None
        payload = json.loads(reply.versions.get().raw_payload)["value"]
        self.assertEqual(reply.versions.get().text, payload["text"])
        self.assertEqual(reply.parent_remote_id, payload["reply"]["parent"]["uri"])
        self.assertEqual(reply.thread_remote_id, payload["reply"]["root"]["uri"])
        self.assertEqual(reply.created_at, parse_datetime(payload["createdAt"]))
        self.assertEqual(reply.direction, "drawn_up")
        rkey = reply.remote_id.rpartition("/")[2]
        self.assertEqual(reply.permalink, f"https://bsky.app/profile/{FAKERMAKER_DID}/post/{rkey}")
        share = Item.objects.filter(kind="share").first()
        assert share is not None
        self.assertTrue(share.parent_remote_id.startswith("at://did:plc:"))

    def test_images_are_reported_missing_with_their_blob_cid_and_alt_text(self) -> None:
        if not FAKERMAKER.exists():
            self.skipTest(MISSING)
        report = self.run_import(FAKERMAKER)
        blob = "bafkreigwkxbq5rloskjwrbg4zivzh7qdlsfg6muca4y2nvnqnjnhcglgim"
        self.assertIn(f"missing media: {blob}", report["errors"])
        media = VersionMedia.objects.get()
        self.assertEqual(media.original_name, blob)
        self.assertEqual(media.alt_text, "Goat cheese black olive mashed potatoes")
        self.assertTrue(media.missing)

    def test_raw_payload_writes_links_and_bytes_in_atproto_json_form(self) -> None:
        if not FAKERMAKER.exists():
            self.skipTest(MISSING)
        self.run_import(FAKERMAKER)
        version = ItemVersion.objects.get(attachments__isnull=False)
        payload = json.loads(version.raw_payload)
        image = payload["value"]["embed"]["images"][0]["image"]
        self.assertEqual(
            image["ref"], {"$link": "bafkreigwkxbq5rloskjwrbg4zivzh7qdlsfg6muca4y2nvnqnjnhcglgim"}
        )
        self.assertTrue(payload["cid"].startswith("bafyrei"))

    def test_a_second_import_adds_nothing(self) -> None:
        if not FAKERMAKER.exists():
            self.skipTest(MISSING)
        self.run_import(FAKERMAKER)
        before = self.counts()
        report = self.run_import(FAKERMAKER)
        self.assertEqual((report["items"], report["versions"]), (0, 0))
        self.assertEqual(report["duplicates_skipped"], 41)
        before["AuditEvent"] += 1  # the import itself is logged
        self.assertEqual(self.counts(), before)

    def test_a_truncated_car_is_refused_naming_the_byte_or_block(self) -> None:
        if not FAKERMAKER.exists():
            self.skipTest(MISSING)
        data = FAKERMAKER.read_bytes()
        blocks = sections(data)
        middle = blocks[len(blocks) // 2]
        cases = {
            "in the header": (20, "byte "),
            "inside a block": (middle[1] + 10, f"byte {middle[0]}: file ends inside a block"),
            "one byte short": (len(data) - 1, "truncated"),
            # Cut exactly between blocks: the framing is whole, but blocks are missing.
            "between blocks": (middle[0], "missing from the CAR"),
        }
        for label, (offset, fragment) in cases.items():
            with self.subTest(label):
                path = self.write(f"cut-{offset}.car", data[:offset])
                self.assert_refused(path, fragment)

    def test_a_car_with_altered_block_bytes_is_refused_naming_the_block(self) -> None:
        if not FAKERMAKER.exists():
            self.skipTest(MISSING)
        data = bytearray(FAKERMAKER.read_bytes())
        _, body, end = sections(bytes(data))[100]
        cid = cid_str(bytes(data[body - 36 : body]))
        data[(body + end) // 2] ^= 0xFF
        path = self.write("flipped.car", bytes(data))
        self.assert_refused(path, f"block {cid} at byte {body - 36}", "does not match its CID")

    def test_a_missing_record_block_refuses_the_file_naming_its_at_uri(self) -> None:
        # A CAR cut between blocks loses records with whole framing: refuse, import nothing.
        data, _ = small_v2_repo(drop_record=1)
        _, blocks = small_v2_repo()
        missing = cid_str(cid_of(blocks[2 + 1]))  # after the commit and the tree node
        path = self.write("missing.car", data)
        uri = "at://did:plc:kulturtest/app.bsky.feed.post/3jqfcqzm3fp2j"
        self.assert_refused(path, f"block {missing}", f"the record {uri} is missing from the CAR")

    def test_a_missing_tree_node_or_commit_data_still_refuses_the_file(self) -> None:
        _, blocks = small_v2_repo()
        commit, node, *records = blocks
        without_node = self.write("no-node.car", car(cid_of(commit), [commit, *records]))
        self.assert_refused(
            without_node, f"{without_node}: block {cid_str(cid_of(node))}: block is missing"
        )
        bare = libipld.encode_dag_cbor({"did": "did:plc:kulturtest", "version": 3, "sig": b"s"})
        no_data = self.write("no-data.car", car(cid_of(bare), [bare, node, *records]))
        self.assert_refused(no_data, "not a repository commit (no data field)")

    def test_the_first_repository_format_is_read_through_its_root_and_meta_blocks(self) -> None:
        # 2022 repositories: commit {root, sig} → root {meta, data, prev} → meta {did, ...}.
        _, blocks = small_v2_repo()
        _, node, *records = blocks
        meta = libipld.encode_dag_cbor(
            {"did": "did:plc:kulturtest", "version": 1, "datastore": "mst"}
        )
        repo_root = libipld.encode_dag_cbor(
            {"meta": cid_of(meta), "data": cid_of(node), "prev": None, "auth_token": None}
        )
        commit = libipld.encode_dag_cbor({"root": cid_of(repo_root), "sig": b"s"})
        data = car(cid_of(commit), [commit, repo_root, meta, node, *records])
        report = self.run_import(self.write("v1.car", data))
        self.assertEqual(report["items"], 3)
        self.assertTrue(
            Item.objects.filter(
                remote_id="at://did:plc:kulturtest/app.bsky.feed.post/3jqfcqzm3fo2j"
            ).exists()
        )
        # A root block without data is still refused, naming it.
        bare_root = libipld.encode_dag_cbor({"meta": cid_of(meta), "prev": None})
        commit = libipld.encode_dag_cbor({"root": cid_of(bare_root), "sig": b"s"})
        broken = self.write("v1-broken.car", car(cid_of(commit), [commit, bare_root, meta]))
        self.assert_refused(
            broken, f"block {cid_str(cid_of(bare_root))}: the root block is not a repository commit"
        )

    def test_a_record_of_another_type_in_the_posts_is_reported_and_skipped(self) -> None:
        like = libipld.encode_dag_cbor(
            {
                "$type": "app.bsky.feed.like",
                "subject": {"uri": "at://did:plc:other/app.bsky.feed.post/1", "cid": "bafy1"},
                "createdAt": "2024-01-01T00:00:00Z",
            }
        )
        entries = [{"p": 0, "k": b"app.bsky.feed.post/3kabc2defg22c", "v": cid_of(like), "t": None}]
        node = libipld.encode_dag_cbor({"l": None, "e": entries})
        commit = libipld.encode_dag_cbor(
            {
                "did": "did:plc:kulturtest",
                "version": 3,
                "data": cid_of(node),
                "rev": "3kabc",
                "sig": b"s",
            }
        )
        report = self.run_import(self.write("odd.car", car(cid_of(commit), [commit, node, like])))
        self.assertEqual(report["items"], 0)
        self.assertIn(
            "at://did:plc:kulturtest/app.bsky.feed.post/3kabc2defg22c: a record of type "
            "'app.bsky.feed.like' in this collection, skipped",
            report["errors"],
        )

    def test_an_empty_or_foreign_file_is_refused(self) -> None:
        cases = [
            ("empty.car", b"", "byte 0: the file is empty"),
            ("text.car", b"hello, this is not a CAR file", "byte 1: file ends inside the CAR"),
            ("json.car", b"\x0b" + b'{"roots":1}', "byte 1: unreadable CAR header"),
        ]
        for name, data, fragment in cases:
            with self.subTest(name):
                self.assert_refused(self.write(name, data), fragment)

    def test_an_older_repository_skips_obsolete_records_and_tolerates_odd_dates(self) -> None:
        data, _ = small_v2_repo()
        report = self.run_import(self.write("v2.car", data))
        self.assertEqual(report["items"], 3)
        self.assertIn(
            "skipped 1 app.bsky.feed.vote record(s): not archived items", report["errors"]
        )
        self.assertIn("1 record(s) without a readable createdAt", report["errors"])
        self.assertIn("missing media: bafkreilegacyblob", report["errors"])
        base = "at://did:plc:kulturtest/app.bsky.feed.post/"
        dated = Item.objects.get(remote_id=base + "3jqfcqzm3fo2j")
        self.assertEqual(
            dated.created_at and dated.created_at.isoformat(), "2023-12-20T09:30:00.123456+00:00"
        )
        self.assertIsNone(Item.objects.get(remote_id=base + "3jqfcqzm3fp2j").created_at)
        reply = Item.objects.get(remote_id=base + "3jqfcqzm3fq2j")
        self.assertEqual(reply.kind, "reply")
        self.assertEqual(reply.parent_remote_id, "at://did:plc:other/app.bsky.feed.post/2")
        self.assertEqual(reply.thread_remote_id, "at://did:plc:other/app.bsky.feed.post/1")
        self.assertEqual(reply.versions.get().attachments.get().alt_text, "Granen på torget")


class BlueskyDatetimeTests(SimpleTestCase):
    def test_it_reads_the_interop_datetimes_and_refuses_the_invalid_ones(self) -> None:
        folder = SHARED / "interop-syntax"
        if not folder.is_dir():
            self.skipTest(MISSING)

        def lines(name: str) -> list[str]:
            text = (folder / name).read_text()
            return [line for line in text.splitlines() if line and not line.startswith("#")]

        for value in lines("datetime_syntax_valid.txt"):
            if value.startswith("0000-"):
                continue  # year 0 is valid syntax, but Python's datetime cannot hold it
            with self.subTest(value=value):
                self.assertIsNotNone(parse_datetime(value))
        for value in lines("datetime_syntax_invalid.txt") + lines("datetime_parse_invalid.txt"):
            with self.subTest(value=value):
                self.assertIsNone(parse_datetime(value))


def import_all(path: Path) -> tuple[int, list[str]]:
    importer = BlueskyRepoImporter(path, account_handle="kultur.bsky.social")
    importer.validate()
    return sum(len(batch) for batch in importer.batches(100)), importer.warnings


class BlueskyDamagedCarTests(SimpleTestCase):
    """Damaged exports end in ImportFormatError (or import cleanly), never another exception."""

    data: bytes
    folder: tempfile.TemporaryDirectory[str]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.data = FAKERMAKER.read_bytes() if FAKERMAKER.exists() else b""
        cls.folder = tempfile.TemporaryDirectory(prefix="narvaro-bluesky-")
        cls.addClassCleanup(cls.folder.cleanup)

    def setUp(self) -> None:
        if not self.data:
            self.skipTest(MISSING)

    def outcome(self, data: bytes) -> ImportFormatError | None:
        """Import `data`; return the format error, or None if it imported whole."""
        path = Path(self.folder.name) / "damaged.car"
        path.write_bytes(data)
        try:
            count, warnings = import_all(path)
        except ImportFormatError as exc:
            self.assertEqual(exc.file, str(path))
            self.assertRegex(exc.position, r"^(byte \d+|block b[a-z2-7]+( at byte \d+)?)$")
            return exc
        # Imported at all means imported whole: every post and repost is there.
        self.assertEqual(count, 41, warnings)
        return None

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.data())
    def test_truncation_anywhere_is_refused_cleanly(self, data: st.DataObject) -> None:
        offset = data.draw(st.integers(min_value=0, max_value=len(self.data)))
        self.outcome(self.data[:offset])

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.data())
    def test_a_flipped_byte_anywhere_is_refused_cleanly(self, data: st.DataObject) -> None:
        offset = data.draw(st.integers(min_value=0, max_value=len(self.data) - 1))
        damaged = bytearray(self.data)
        damaged[offset] ^= data.draw(st.integers(min_value=1, max_value=255))
        self.assertIsNotNone(self.outcome(bytes(damaged)))

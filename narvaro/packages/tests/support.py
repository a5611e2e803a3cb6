"""An archive with something of everything, and the E-ARK validator run offline."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

from narvaro.archive.capture import EventInput, MediaInput
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture, a_deletion, an_image
from narvaro.channels.models import Account


def fill_archive(account: Account, other: Account) -> None:
    """Posts, replies, an edit, a deletion, media with alt text and a caption, two accounts."""
    capture_batch(
        account=account,
        captures=[
            a_capture(
                "p1",
                "Biblioteket öppnar klockan 10 🎉",
                kind="post",
                direction="drawn_up",
                author_handle=account.handle,
                thread_remote_id="p1",
                media=(
                    an_image(),
                    MediaInput(original_name="gone.mp4"),
                    MediaInput(
                        original_name="clip.mp4",
                        content=b"\x00\x00\x00\x18ftypmp42 video",
                        content_type="video/mp4",
                        alt_text="Filmklipp",
                        caption=b"WEBVTT\n\n00:00.000 --> 00:01.000\nHej\n",
                    ),
                ),
            ),
            a_capture("c1", "När öppnar ni?", parent_remote_id="p1", thread_remote_id="p1"),
            a_capture(
                "c2",
                "Tack!",
                parent_remote_id="p1",
                thread_remote_id="p1",
                created_at=dt.datetime(2025, 12, 31, 20, 30, tzinfo=dt.UTC),
            ),
        ],
        source="import:mastodon",
    )
    capture_batch(
        account=account,
        captures=[a_capture("c1", "När öppnar ni? (ändrad)", thread_remote_id="p1")],
        events=[a_deletion("c2")],
        source="harvest:mastodon",
    )
    capture_batch(
        account=account,
        events=[
            EventInput(
                platform="mastodon",
                remote_id="c1",
                type="hidden",
                occurred_at=dt.datetime(2026, 3, 7, 8, 0, tzinfo=dt.UTC),
                details={"reason": "personal data", "policy": "§3"},
            )
        ],
        source="moderation",
    )
    capture_batch(
        account=other,
        captures=[a_capture("b1", "Gatan är plogad", raw_payload="not json \r\n verbatim")],
        source="import:mastodon",
    )


class _BundledVocabularies(urllib.request.BaseHandler):
    """Answers the validator's vocabulary downloads with the copies it ships."""

    handler_order = 100  # before urllib's own HTTPS handler

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def https_open(self, request: urllib.request.Request) -> Any:
        name = request.full_url.rsplit("/", 1)[-1]
        path = self.folder / name
        if "dilcis.eu" not in request.full_url or not path.is_file():
            raise urllib.error.URLError(f"offline test: no bundled copy of {request.full_url}")
        headers = Message()
        headers["Content-Type"] = "application/xml"
        response = urllib.response.addinfourl(
            io.BytesIO(path.read_bytes()), headers, request.full_url, 200
        )
        response.msg = "OK"
        return response


@contextlib.contextmanager
def offline_vocabularies() -> Iterator[None]:
    """Serve the four CSIP vocabularies from eark_validator's bundled files while importing it.

    eark-validator downloads them from earkcsip.dilcis.eu when its schematron module is
    imported; the tests run offline, so a urllib opener hands it the same files from
    `eark_validator/ipxml/resources/vocabs` (the third party's own copies).
    """
    import importlib.util

    spec = importlib.util.find_spec("eark_validator")
    assert spec is not None and spec.origin is not None
    folder = Path(spec.origin).parent / "ipxml" / "resources" / "vocabs"
    urllib.request.install_opener(urllib.request.build_opener(_BundledVocabularies(folder)))
    try:
        yield
    finally:
        urllib.request.install_opener(None)  # type: ignore[arg-type]


def eark_errors(package: Path) -> list[str]:
    """Every error eark-validator reports for the package (empty when it passes)."""
    with offline_vocabularies():
        from eark_validator.model.validation_report import Severity
        from eark_validator.packages import PackageValidator

    report = PackageValidator(package).validation_report
    errors = [
        f"{message.rule_id}: {message.message}"
        for message in report.structure.messages
        if message.severity == Severity.ERROR
    ]
    if report.metadata is not None:
        for results in (report.metadata.schema_results, report.metadata.schematron_results):
            errors += [
                f"{m.rule_id} {m.location}: {m.message}"
                for m in results.messages
                if m.severity == Severity.ERROR
            ]
    return errors

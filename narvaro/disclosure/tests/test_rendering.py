"""render_items_pdf: the printout reproduces every version literally (R24), PDF/A (R30),
and masks redacted spans in the output only (R25)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from django.utils import translation
from django.utils.translation import gettext
from pypdf import PdfReader

from narvaro.archive.capture import EventInput, MediaInput
from narvaro.archive.events import item_event_record
from narvaro.archive.models import Item, ItemVersion
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import (
    READING_ROOM_PNG,
    TWEET_PNG,
    a_capture,
    a_deletion,
    a_png,
    an_image,
)
from narvaro.disclosure.rendering import (
    MEDIA_SCHEME,
    Span,
    apply_spans,
    items_html,
    render_items_pdf,
)
from narvaro.lib.testing import NarvaroTestCase

POST_V1 = "Öppet hus på biblioteket.\nVälkomna!"
POST_V2 = "Öppet hus på biblioteket i dag, kl. 10–14.\nVälkomna!"
COMMENT = "Mitt personnummer är 19811218-9876, ring 070-123 45 67."


def pdf_text(pdf: bytes) -> str:
    """All text of a PDF, with line breaks and repeated spaces folded to single spaces."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


class RenderItemsPdfTests(NarvaroTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        post = {"kind": "post", "direction": "drawn_up", "author_handle": "@kultur@social.example"}
        for text in [POST_V1, POST_V2]:
            capture_batch(
                account=cls.account_a,
                captures=[
                    a_capture("p1", text, media=(an_image(alt="Bokhyllor i solljus"),), **post)
                ],
                source="test",
            )
        capture_batch(
            account=cls.account_a,
            captures=[a_capture("c1", COMMENT, thread_remote_id="p1", parent_remote_id="p1")],
            events=[
                a_deletion("c1"),
                EventInput(
                    platform="mastodon", remote_id="c1", type="hidden", details={"reason": "pnr"}
                ),
            ],
            source="test",
        )
        cls.post = Item.objects.get(remote_id="p1")
        cls.comment = Item.objects.get(remote_id="c1")

    def test_every_version_alt_text_event_and_digest_is_in_the_printout(self) -> None:
        """R24: literal reproduction, all versions, both timestamps, alt text, events."""
        text = pdf_text(
            render_items_pdf(items=[self.comment, self.post], title="Copy 1", language="en")
        )
        for version in ItemVersion.objects.filter(item__in=[self.post, self.comment]):
            self.assertIn(" ".join((version.text or "").split()), text)
            self.assertIn(version.content_digest[:16], text.replace(" ", ""))
        self.assertIn("Bokhyllor i solljus", text)
        self.assertIn("Deleted on the platform: 2026-03-06 10:00:00 CET", text)
        self.assertIn("Hidden: –", text)  # the moderation event
        self.assertIn("Created on the platform 2026-03-05 17:44:51 CET", text)
        self.assertIn("First seen by Narvaro", text)
        # Thread context: the comment answers No. 1, printed before it.
        self.assertLess(text.index("No. 1: Post"), text.index("No. 2: Comment"))
        self.assertIn("In reply to No. 1 (p1)", text)

    def test_a_parent_outside_the_printout_is_named_by_its_platform_id(self) -> None:
        text = pdf_text(render_items_pdf(items=[self.comment], title="Copy", language="en"))
        self.assertIn("In reply to p1 (not part of this printout)", text)

    def test_pdf_a_output_declares_pdf_a_3b_and_embeds_its_fonts(self) -> None:
        """R30: renderings for preservation are PDF/A."""
        pdf = render_items_pdf(items=[self.post], pdf_a=True, title="Snapshot")
        reader = PdfReader(io.BytesIO(pdf))
        xmp = reader.xmp_metadata
        assert xmp is not None
        xml = xmp.rdf_root.toxml()
        self.assertIn('pdfaid:part="3"', xml)
        self.assertIn('pdfaid:conformance="B"', xml)
        self.assertIn("/OutputIntents", reader.trailer["/Root"])
        fonts = reader.pages[0]["/Resources"]["/Font"]
        for ref in fonts.values():
            descriptor = ref.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            self.assertTrue(any(key.startswith("/FontFile") for key in descriptor))
        plain = PdfReader(io.BytesIO(render_items_pdf(items=[self.post], title="Snapshot")))
        self.assertIsNone(plain.xmp_metadata)

    def test_a_redacted_span_is_masked_with_its_ground_and_the_archive_is_unchanged(self) -> None:
        """R25: masking in the disclosure copy only."""
        version = self.comment.versions.get()
        before = (version.text, version.content_digest, version.chain_digest)
        start = COMMENT.index("19811218")
        spans = {version.pk: [Span(start, start + len("19811218-9876"), "OSL 21 kap. 7 §")]}
        pdf = render_items_pdf(items=[self.comment], redactions=spans, title="Copy", language="en")
        text = pdf_text(pdf)
        self.assertNotIn("19811218", text)
        self.assertNotIn("9876", text)
        self.assertIn("är [masked: OSL 21 kap. 7 §] , ring", text)
        self.assertIn("ring 070-123 45 67", text)
        version.refresh_from_db()
        self.assertEqual((version.text, version.content_digest, version.chain_digest), before)

    def test_a_span_outside_the_text_is_refused(self) -> None:
        version = self.comment.versions.get()
        with self.assertRaisesMessage(ValueError, "version 1: redaction span 50-500 lies outside"):
            render_items_pdf(
                items=[self.comment], redactions={version.pk: [Span(50, 500)]}, title="x"
            )

    def test_html_in_archived_text_is_printed_as_text_and_fetches_nothing(self) -> None:
        capture_batch(
            account=self.account_a,
            captures=[a_capture("x1", '<img src="file:///etc/passwd"> <b>fet</b>')],
            source="test",
        )
        text = pdf_text(render_items_pdf(items=Item.objects.filter(remote_id="x1"), title="x"))
        self.assertIn('<img src="file:///etc/passwd"> <b>fet</b>', text)


class ApplySpansTests(NarvaroTestCase):
    def test_overlapping_spans_merge_and_keep_both_grounds(self) -> None:
        segments = apply_spans("abcdefghij", [Span(2, 5, "A"), Span(4, 7, "B"), Span(8, 9, "A")])
        self.assertEqual(
            [(s.text, s.masked, s.ground) for s in segments],
            [
                ("ab", False, ""),
                ("", True, "A; B"),
                ("h", False, ""),
                ("", True, "A"),
                ("j", False, ""),
            ],
        )

    def test_no_spans_is_the_text_itself(self) -> None:
        self.assertEqual([s.text for s in apply_spans("hej", [])], ["hej"])
        self.assertEqual([s.text for s in apply_spans("", [])], [""])


class RenderImagesTests(NarvaroTestCase):
    def test_archived_images_are_drawn_and_nothing_else_is_fetched(self) -> None:
        """R24: the printout shows the image itself, with its alt text, from the archive."""
        png = Path(__file__).resolve().parents[2] / (
            "channels/tests/fixtures/mastodon/media__reading_room.png"
        )
        image = MediaInput(
            original_name="lasesal.png",
            content=png.read_bytes(),
            content_type="image/png",
            alt_text="Läsesalen med nya fåtöljer",
        )
        capture_batch(
            account=self.account_a,
            captures=[a_capture("img1", "Se bilden", media=(image,))],
            source="test",
        )
        pdf = render_items_pdf(items=Item.objects.filter(remote_id="img1"), title="Bilder")
        page = PdfReader(io.BytesIO(pdf)).pages[0]
        self.assertEqual(len(page.images), 1)
        self.assertIn("Läsesalen med nya fåtöljer", pdf_text(pdf))
        # A stored file that is no readable image is left out; its alt text still prints.
        capture_batch(
            account=self.account_a,
            captures=[a_capture("img2", "Trasig bild", media=(an_image(alt="Trasig"),))],
            source="test",
        )
        pdf = render_items_pdf(items=Item.objects.filter(remote_id="img2"), title="Bilder")
        self.assertEqual(len(PdfReader(io.BytesIO(pdf)).pages[0].images), 0)
        self.assertIn(
            "Alt text: Trasig",
            pdf_text(
                render_items_pdf(
                    items=Item.objects.filter(remote_id="img2"), title="x", language="en"
                )
            ),
        )


class MediaWithheldRenderingTests(NarvaroTestCase):
    """R19: child sexual abuse material is never drawn in a printout, nor loaded for it."""

    def setUp(self) -> None:
        super().setUp()
        capture_batch(
            account=self.account_a,
            captures=[
                a_capture("x1", "Olagligt innehåll", media=(a_png("x.png", alt="bild"),)),
                a_capture("x2", "Läsesalen", media=(a_png("lasesal.png", TWEET_PNG),)),
                # The same bytes as x1's, attached to an item nobody moderated.
                a_capture("x3", "Samma fil", media=(a_png("y.png"),)),
            ],
            source="test",
        )
        item_event_record(
            item=Item.objects.get(remote_id="x1"),
            type="hidden",
            details={"reason": "csam", "reason_group": "bbs"},
            actor=self.adam,
            source="moderation",
        )

    def printout(self, *remote_ids: str) -> tuple[str, dict[str, str], bytes]:
        items = Item.objects.filter(remote_id__in=remote_ids)
        html, media = items_html(items=items, title="Utlämnande", language="en")
        return html, media, render_items_pdf(items=items, title="Utlämnande", language="en")

    def test_the_image_is_not_drawn_or_loaded_and_a_notice_says_why(self) -> None:
        digest = hashlib.sha256(READING_ROOM_PNG.read_bytes()).hexdigest()
        html, media, pdf = self.printout("x1", "x3")
        self.assertEqual(media, {})
        self.assertNotIn("<img", html)
        self.assertNotIn(f"{MEDIA_SCHEME}{digest}", html)
        self.assertEqual(sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages), 0)
        text = pdf_text(pdf)
        notice = "Attachment withheld (child sexual abuse material reported, not copied)"
        self.assertEqual(text.count(notice), 2)
        self.assertIn(digest, text.replace(" ", ""))
        with translation.override("sv"):
            swedish = gettext(notice)
        self.assertNotEqual(swedish, notice)
        printout_sv = render_items_pdf(items=Item.objects.filter(remote_id="x1"), title="x")
        self.assertIn(swedish, pdf_text(printout_sv))

    def test_an_item_not_so_moderated_keeps_its_image(self) -> None:
        html, media, pdf = self.printout("x2")
        self.assertEqual(list(media), [hashlib.sha256(TWEET_PNG.read_bytes()).hexdigest()])
        self.assertIn("<img", html)
        self.assertEqual(len(PdfReader(io.BytesIO(pdf)).pages[0].images), 1)
        self.assertNotIn("withheld", pdf_text(pdf))

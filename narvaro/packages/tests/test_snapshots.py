"""Snapshot before closing (R11): a final rendering and full package, shown on the account."""

from __future__ import annotations

import zipfile
from io import BytesIO

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.urls import reverse
from pypdf import PdfReader

from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture
from narvaro.channels import services as channel_services
from narvaro.channels.models import Account
from narvaro.lib.testing import NarvaroTestCase
from narvaro.packages.models import AccountSnapshot
from narvaro.packages.services import account_snapshot_make
from narvaro.packages.tests.support import fill_archive


class ClosingTests(NarvaroTestCase):
    def setUp(self) -> None:
        super().setUp()
        fill_archive(self.account_a, self.account_b)
        channel_services.account_transition(
            actor=None, account=self.account_a, to_state=Account.State.ACTIVE
        )
        channel_services.account_transition(
            actor=None, account=self.account_a, to_state=Account.State.CLOSING
        )

    def close(self) -> Account:
        return channel_services.account_transition(
            actor=self.alice, account=self.account_a, to_state=Account.State.CLOSED
        )

    def test_closing_is_blocked_until_a_final_snapshot_exists_r11(self) -> None:
        with self.assertRaisesMessage(ValidationError, "Make a final snapshot"):
            self.close()
        account_snapshot_make(actor=self.alice, account=self.account_a)
        self.assertEqual(self.close().state, Account.State.CLOSED)

    def test_a_snapshot_made_before_new_records_is_not_final_r11(self) -> None:
        account_snapshot_make(actor=self.alice, account=self.account_a)
        capture_batch(account=self.account_a, captures=[a_capture("late")], source="harvest")
        with self.assertRaisesMessage(ValidationError, "Records were archived after"):
            self.close()

    def test_a_proposal_with_no_records_is_withdrawn_without_a_snapshot(self) -> None:
        account = channel_services.account_create(
            actor=None, unit=self.unit_b, platform="x", handle="@ny"
        )
        closed = channel_services.account_transition(
            actor=None, account=account, to_state=Account.State.CLOSED
        )
        self.assertEqual(closed.state, Account.State.CLOSED)

    def test_the_snapshot_holds_a_pdf_a_rendering_and_the_full_package_r11_r30(self) -> None:
        snapshot = account_snapshot_make(actor=self.alice, account=self.account_a)
        package = snapshot.export
        self.assertEqual(package.account, self.account_a)
        with default_storage.open(package.storage_name, "rb") as handle:
            archive = zipfile.ZipFile(BytesIO(handle.read()))
        names = archive.namelist()
        top = package.file_name[:-4]
        self.assertIn(f"{top}/data/records/versions.jsonl", names)
        pdf_name = f"{top}/data/renderings/account-{self.account_a.pk}-part-0001.pdf"
        self.assertIn(pdf_name, names)
        reader = PdfReader(BytesIO(archive.read(pdf_name)))
        text = "".join(page.extract_text() for page in reader.pages).replace("\x00", "")
        self.assertIn("När öppnar ni? (ändrad)", text)
        self.assertIn("pdfaid", str(reader.xmp_metadata.rdf_root.toxml()))  # type: ignore[union-attr]
        self.assertEqual([f["kind"] for f in snapshot.files], ["package", "rendering"])


class SnapshotPageTests(NarvaroTestCase):
    def setUp(self) -> None:
        super().setUp()
        fill_archive(self.account_a, self.account_b)

    def test_the_account_page_shows_when_the_last_snapshot_was_made(self) -> None:
        account_snapshot_make(actor=self.alice, account=self.account_a)
        made = AccountSnapshot.objects.get().made_at
        response = self.client_for(self.vera).get(
            reverse("packages:account_snapshots", args=[self.account_a.pk]),
            headers={"HX-Request": "true"},
        )
        self.assertContains(response, f"Last snapshot: {made.astimezone():%Y-%m-%d}")
        self.assertNotContains(response, "Make a snapshot now")  # vera only views

    def test_a_manager_makes_a_snapshot_from_the_account_page(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client_for(self.alice).post(
                reverse("packages:account_snapshot_create", args=[self.account_a.pk])
            )
        self.assertRedirects(
            response, reverse("packages:account_snapshots", args=[self.account_a.pk])
        )
        self.assertEqual(AccountSnapshot.objects.get().made_by, self.alice)

    def test_a_viewer_may_not_make_one_and_an_outsider_does_not_see_the_account(self) -> None:
        url = reverse("packages:account_snapshot_create", args=[self.account_a.pk])
        self.assertEqual(self.client_for(self.vera).post(url).status_code, 403)
        self.assertEqual(self.client_for(self.bob).post(url).status_code, 404)
        self.assertFalse(AccountSnapshot.objects.exists())

"""The package pages: who may export and download, the audit log, and the query count."""

from __future__ import annotations

import zipfile
from io import BytesIO

from django.urls import reverse
from django.utils import translation

from narvaro.core.audit_summaries import summary_display
from narvaro.core.models import AuditEvent
from narvaro.lib.testing import NarvaroTestCase
from narvaro.packages.models import PackageExport
from narvaro.packages.services import package_export_to_storage
from narvaro.packages.tests.support import fill_archive


class ExportListTests(NarvaroTestCase):
    def setUp(self) -> None:
        super().setUp()
        fill_archive(self.account_a, self.account_b)

    def test_a_registrar_asks_for_a_package_and_downloads_it_r31(self) -> None:
        client = self.client_for(self.rita)
        with self.captureOnCommitCallbacks(execute=True):
            response = client.post(
                reverse("packages:export_list"),
                {"kind": "bagit", "account": self.account_b.pk},
            )
        self.assertRedirects(response, reverse("packages:export_list"))
        export = PackageExport.objects.get()
        self.assertEqual(export.status, PackageExport.Status.DONE)  # immediate task backend
        self.assertEqual(export.requested_by, self.rita)
        download = client.get(reverse("packages:export_download", args=[export.pk]))
        self.assertEqual(download.status_code, 200)
        body = b"".join(download.streaming_content)  # type: ignore[attr-defined]
        names = zipfile.ZipFile(BytesIO(body)).namelist()
        self.assertIn(f"{export.file_name[:-4]}/bagit.txt", names)
        summaries = list(
            AuditEvent.objects.filter(
                action=AuditEvent.Action.EXPORT, target_id=str(export.pk)
            ).values_list("actor", flat=True)
        )
        self.assertEqual(summaries, [self.rita.pk, self.rita.pk])  # made, then downloaded
        # Both summaries are listed messages, shown in Swedish on the Swedish audit log.
        with translation.override("sv"):
            shown = [
                summary_display(summary)
                for summary in AuditEvent.objects.filter(
                    action=AuditEvent.Action.EXPORT, target_id=str(export.pk)
                )
                .order_by("pk")
                .values_list("summary", flat=True)
            ]
        self.assertEqual(shown[-1], "paket BagIt (RFC 8493) nedladdat")
        self.assertEqual(len(shown), 2)
        self.assertTrue(shown[0].startswith("paket BagIt (RFC 8493) exporterat: "), shown)

    def test_a_bad_period_is_refused_on_the_form(self) -> None:
        response = self.client_for(self.adam).post(
            reverse("packages:export_list"),
            {"kind": "eark", "date_from": "2025-02-01", "date_to": "2025-01-01"},
        )
        self.assertContains(response, "The period ends before it starts.")
        self.assertFalse(PackageExport.objects.exists())

    def test_others_may_neither_list_nor_download_packages_r37(self) -> None:
        export, _ = package_export_to_storage(actor=None, kind="bagit", account=self.account_a)
        for person in (self.alice, self.vera, self.bob):
            client = self.client_for(person)
            self.assertEqual(client.get(reverse("packages:export_list")).status_code, 403)
            url = reverse("packages:export_download", args=[export.pk])
            self.assertEqual(client.get(url).status_code, 403)

    def test_the_list_costs_a_fixed_number_of_queries(self) -> None:
        client = self.client_for(self.rita)
        package_export_to_storage(actor=self.rita, kind="bagit", account=self.account_a)
        client.get(reverse("packages:export_list"))
        with self.assertNumQueries(8) as first:
            client.get(reverse("packages:export_list"))
        for _ in range(3):
            package_export_to_storage(actor=self.adam, kind="bagit", unit=self.unit_b)
        with self.assertNumQueries(len(first.captured_queries)):
            client.get(reverse("packages:export_list"))

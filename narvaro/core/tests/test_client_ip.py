"""The client address recorded in the audit log and used for login throttling."""

from __future__ import annotations

from django.test import RequestFactory, SimpleTestCase, override_settings

from narvaro.lib.net import client_ip


class ClientIpTests(SimpleTestCase):
    def request(self, remote: str, forwarded: str | None = None):  # type: ignore[no-untyped-def]
        extra = {"REMOTE_ADDR": remote}
        if forwarded is not None:
            extra["HTTP_X_FORWARDED_FOR"] = forwarded
        return RequestFactory().get("/", **extra)

    @override_settings(NARVARO_PROXY_COUNT=0)
    def test_without_a_proxy_forwarded_headers_are_ignored(self) -> None:
        self.assertEqual(client_ip(self.request("192.0.2.1", "198.51.100.7")), "192.0.2.1")

    @override_settings(NARVARO_PROXY_COUNT=1)
    def test_behind_one_proxy_the_address_it_appended_is_the_client(self) -> None:
        # The client forged the first entry; the proxy appended the real one.
        request = self.request("10.0.0.2", "203.0.113.9, 198.51.100.7")
        self.assertEqual(client_ip(request), "198.51.100.7")

    @override_settings(NARVARO_PROXY_COUNT=1)
    def test_a_malformed_forwarded_entry_falls_back_to_the_connection(self) -> None:
        self.assertEqual(client_ip(self.request("10.0.0.2", "not-an-ip")), "10.0.0.2")
        self.assertIsNone(client_ip(self.request("garbage")))

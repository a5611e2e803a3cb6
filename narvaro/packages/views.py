"""Archival packages on the web: the export form and list, downloads, account snapshots."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from narvaro.channels.selectors import get_account_for_user
from narvaro.lib.forms import post_data
from narvaro.lib.htmx import redirect_to, render_page
from narvaro.lib.paging import paginate
from narvaro.lib.types import AuthedRequest
from narvaro.packages import selectors, services
from narvaro.packages.forms import PackageExportForm

View = Callable[..., HttpResponseBase]


def officer_only(view: View) -> View:
    """Signed in (else the sign-in page) and a registrar or admin (else 403)."""

    @login_required
    @wraps(view)
    def wrapper(request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        selectors.require_package_officer(request.user)
        return view(request, *args, **kwargs)

    return wrapper


@officer_only
@require_http_methods(["GET", "POST"])
def export_list(request: AuthedRequest) -> HttpResponse:
    """Ask for a package (posted here) and list the packages made, with their downloads."""
    form = PackageExportForm(post_data(request))
    if form.is_valid():
        try:
            services.package_export_request(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The package is being made. It is listed below."))
            return redirect_to(request, reverse("packages:export_list"))
    exports = selectors.package_export_list_for_user(request.user)
    return render(
        request, "packages/export_list.html", {"form": form, "page": paginate(request, exports)}
    )


@officer_only
@require_GET
def export_download(request: AuthedRequest, pk: int) -> HttpResponseBase:
    """The package's zip file; every download is in the audit log (R37)."""
    export = selectors.get_package_export_for_user(request.user, pk)
    services.package_download_log(actor=request.user, export=export, request=request)
    return FileResponse(
        default_storage.open(export.storage_name, "rb"),
        as_attachment=True,
        filename=export.file_name,
        content_type="application/zip",
    )


@login_required
@require_GET
def account_snapshots(request: AuthedRequest, pk: int) -> HttpResponse:
    """An account's snapshots (R11); the account page loads the latest through htmx."""
    account = get_account_for_user(request.user, pk)
    snapshots = selectors.account_snapshots(account)
    context = {
        "account": account,
        "snapshots": snapshots[:50],
        "latest": snapshots.first(),
        "can_make": selectors.can_make_snapshot(request.user, account),
        "problems": selectors.snapshot_problems(account),
        "can_download": selectors.can_export_packages(request.user),
    }
    return render_page(
        request, "packages/account_snapshots.html", "packages/partials/snapshot_card.html", context
    )


@login_required
@require_POST
def account_snapshot_create(request: AuthedRequest, pk: int) -> HttpResponse:
    """Make a snapshot of the account now (a background task renders and packages it)."""
    account = get_account_for_user(request.user, pk)
    if not selectors.can_make_snapshot(request.user, account):
        raise PermissionDenied
    services.account_snapshot_request(actor=request.user, account=account)
    messages.success(request, _("The snapshot is being made."))
    return redirect_to(request, reverse("packages:account_snapshots", args=[account.pk]))

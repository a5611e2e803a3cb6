from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("narvaro.core.urls")),
    path("units/", include("narvaro.organisation.urls")),
    path("", include("narvaro.channels.urls")),
    path("records/", include("narvaro.archive.urls")),
    path("radar/", include("narvaro.radar.urls")),
    path("inbox/", include("narvaro.inbox.urls")),
    path("requests/", include("narvaro.disclosure.urls")),
    path("records-management/", include("narvaro.retention.urls")),
    path("packages/", include("narvaro.packages.urls")),
    path("moderation/", include("narvaro.moderation.urls")),
    path("django-admin/", admin.site.urls),
]

from django.urls import path

from narvaro.packages import views

app_name = "packages"

urlpatterns = [
    path("", views.export_list, name="export_list"),
    path("<int:pk>/download/", views.export_download, name="export_download"),
    path("accounts/<int:pk>/snapshots/", views.account_snapshots, name="account_snapshots"),
    path(
        "accounts/<int:pk>/snapshots/new/",
        views.account_snapshot_create,
        name="account_snapshot_create",
    ),
]

from django.urls import path

from narvaro.archive import views

app_name = "archive"

urlpatterns = [
    path("", views.record_list, name="record_list"),
    path("export.csv", views.record_export, name="record_export"),
    path("<int:pk>/", views.record_detail, name="record_detail"),
    path(
        "<int:pk>/versions/<int:number>/media/<int:position>/",
        views.record_media,
        name="record_media",
    ),
]

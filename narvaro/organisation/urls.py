from django.urls import path

from narvaro.organisation import views

app_name = "organisation"

urlpatterns = [
    path("", views.unit_list, name="unit_list"),
    path("new/", views.unit_create, name="unit_create"),
    path("<int:pk>/", views.unit_detail, name="unit_detail"),
    path("<int:pk>/edit/", views.unit_edit, name="unit_edit"),
    path("<int:pk>/members/new/", views.membership_add, name="membership_add"),
    path("members/<int:pk>/edit/", views.membership_edit, name="membership_edit"),
    path("members/<int:pk>/remove/", views.membership_revoke, name="membership_revoke"),
]

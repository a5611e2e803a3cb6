from django.urls import path

from narvaro.channels import views

app_name = "channels"

urlpatterns = [
    path("accounts/", views.account_list, name="account_list"),
    path("accounts/new/", views.account_create, name="account_create"),
    path("accounts/export.<str:fmt>", views.account_export, name="account_export"),
    path("accounts/<int:pk>/", views.account_detail, name="account_detail"),
    path("accounts/<int:pk>/edit/", views.account_edit, name="account_edit"),
    path("accounts/<int:pk>/capture/", views.account_capture, name="account_capture"),
    path(
        "accounts/<int:pk>/capture/reconnect/",
        views.account_reconnect,
        name="account_reconnect",
    ),
    path(
        "accounts/<int:pk>/capture/sign-in/",
        views.account_oauth_start,
        name="account_oauth_start",
    ),
    path("oauth/mastodon/callback/", views.oauth_callback, name="oauth_callback"),
    path(
        "accounts/<int:pk>/completeness/",
        views.account_completeness,
        name="account_completeness",
    ),
    path(
        "accounts/<int:pk>/completeness.csv",
        views.account_completeness_csv,
        name="account_completeness_csv",
    ),
    path(
        "accounts/<int:pk>/state/<str:state>/", views.account_transition, name="account_transition"
    ),
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/new/", views.policy_create, name="policy_create"),
    path("policies/<int:pk>/", views.policy_detail, name="policy_detail"),
    path(
        "policies/<int:pk>/versions/new/", views.policy_version_create, name="policy_version_create"
    ),
    path(
        "policies/<int:pk>/versions/<int:number>/",
        views.policy_version_detail,
        name="policy_version_detail",
    ),
    path(
        "policies/<int:pk>/versions/<int:number>/publish/",
        views.policy_version_publish,
        name="policy_version_publish",
    ),
]

from django.urls import path

from narvaro.disclosure import views

app_name = "disclosure"

urlpatterns = [
    path("", views.request_list, name="request_list"),
    path("new/", views.request_create, name="request_create"),
    path("<int:pk>/", views.request_detail, name="request_detail"),
    path("<int:pk>/compile/", views.request_compile, name="request_compile"),
    path("<int:pk>/compile/add/", views.request_compile_add, name="request_compile_add"),
    path("<int:pk>/close/", views.request_close, name="request_close"),
    path("<int:pk>/handler/", views.request_reassign, name="request_reassign"),
    path("<int:pk>/deliveries/", views.delivery_create, name="delivery_create"),
    path("<int:pk>/deliveries/status/", views.delivery_status, name="delivery_status"),
    path("<int:pk>/deliveries/<int:number>/retry/", views.delivery_retry, name="delivery_retry"),
    path(
        "<int:pk>/deliveries/<int:number>/<str:kind>/",
        views.delivery_file,
        name="delivery_file",
    ),
    path("<int:pk>/records/<int:item_pk>/", views.request_item_detail, name="request_item"),
    path(
        "<int:pk>/records/<int:item_pk>/decide/",
        views.request_item_decide,
        name="request_item_decide",
    ),
    path(
        "<int:pk>/records/<int:item_pk>/remove/",
        views.request_item_remove,
        name="request_item_remove",
    ),
    path("<int:pk>/records/<int:item_pk>/mask/", views.redaction_add, name="redaction_add"),
    path(
        "<int:pk>/redactions/<int:redaction_pk>/accept/",
        views.redaction_review,
        {"accept": True},
        name="redaction_accept",
    ),
    path(
        "<int:pk>/redactions/<int:redaction_pk>/reject/",
        views.redaction_review,
        {"accept": False},
        name="redaction_reject",
    ),
]

from django.urls import path

from narvaro.retention import views

app_name = "retention"

urlpatterns = [
    path("", views.rule_list, name="rule_list"),
    path("rules/new/", views.rule_create, name="rule_create"),
    path("rules/<int:pk>/", views.rule_detail, name="rule_detail"),
    path("rules/<int:pk>/deactivate/", views.rule_deactivate, name="rule_deactivate"),
    path("rules/<int:pk>/runs/", views.run_create, name="run_create"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/commit/", views.run_commit, name="run_commit"),
    path("log/", views.disposal_log, name="disposal_log"),
    path("holds/", views.hold_list, name="hold_list"),
    path("holds/new/", views.hold_create, name="hold_create"),
    path("holds/<int:pk>/release/", views.hold_release, name="hold_release"),
    path("erasure/", views.erasure_list, name="erasure_list"),
    path("erasure/new/", views.erasure_create, name="erasure_create"),
    path("erasure/<int:pk>/", views.erasure_detail, name="erasure_detail"),
    path("erasure/<int:pk>/decide/", views.erasure_decide, name="erasure_decide"),
    path("registry/", views.registry_list, name="registry_list"),
    path("registry/export.json", views.registry_export, name="registry_export"),
    path("registry/<int:pk>/", views.registry_detail, name="registry_detail"),
    path("registry/<int:pk>/lift/", views.registry_lift, name="registry_lift"),
    path("records/<int:pk>/flag/<str:kind>/", views.registry_flag, name="registry_flag"),
]

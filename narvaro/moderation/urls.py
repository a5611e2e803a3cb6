from django.urls import path

from narvaro.moderation import views

app_name = "moderation"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("accounts/<int:pk>/", views.queue, name="queue"),
    path("accounts/<int:pk>/review/", views.queue_review, name="queue_review"),
    path("accounts/<int:pk>/log/", views.moderation_log, name="log"),
    path("items/<int:item_id>/", views.item_moderate, name="item_moderate"),
    path("actions/<int:pk>/", views.action_detail, name="action_detail"),
    path("actions/<int:pk>/rendering/", views.action_rendering, name="action_rendering"),
    path("escalations/", views.escalation_list, name="escalation_list"),
    path("escalations/<int:pk>/", views.escalation_detail, name="escalation_detail"),
    path("escalations/<int:pk>/bundle/", views.escalation_bundle, name="escalation_bundle"),
    path("escalations/<int:pk>/close/", views.escalation_close, name="escalation_close"),
]

from django.urls import path

from narvaro.radar import views

app_name = "radar"

urlpatterns = [
    path("", views.alert_list, name="alert_list"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert_detail"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
    path("classifier/", views.classifier, name="classifier"),
    path("classifier/train/", views.classifier_train, name="classifier_train"),
    path("items/<int:pk>/", views.item_explain, name="item_explain"),
    path("items/<int:pk>/category/", views.item_category, name="item_category"),
]

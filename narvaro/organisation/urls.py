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
    # Business hours and holidays (R14).
    path("business-hours/", views.business_hours, name="business_hours"),
    path("business-hours/week/", views.opening_hours_edit, name="opening_hours_edit"),
    path("business-hours/days/new/", views.calendar_day_add, name="calendar_day_add"),
    path(
        "business-hours/days/<int:pk>/remove/",
        views.calendar_day_remove,
        name="calendar_day_remove",
    ),
    # The duty roster (R14).
    path("<int:pk>/roster/", views.roster, name="roster"),
    path("<int:pk>/roster/new/", views.duty_add, name="duty_add"),
    path("roster/<int:pk>/remove/", views.duty_remove, name="duty_remove"),
]

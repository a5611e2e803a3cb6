from django.urls import path

from narvaro.inbox import views

app_name = "inbox"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("news/", views.inbox_news, name="inbox_news"),
    path("bulk/", views.inbox_bulk, name="inbox_bulk"),
    path("<int:pk>/", views.conversation_detail, name="conversation_detail"),
    path("<int:pk>/updates/", views.conversation_updates, name="conversation_updates"),
    path("<int:pk>/suggestions/", views.conversation_suggestions, name="conversation_suggestions"),
    path(
        "<int:pk>/saved-replies/<int:saved_pk>/",
        views.conversation_saved_reply,
        name="conversation_saved_reply",
    ),
    path("<int:pk>/reply/", views.conversation_reply, name="conversation_reply"),
    path("<int:pk>/assign/", views.conversation_assign, name="conversation_assign"),
    path("<int:pk>/assign-me/", views.conversation_assign_me, name="conversation_assign_me"),
    path("<int:pk>/move/", views.conversation_move, name="conversation_move"),
    path("<int:pk>/status/", views.conversation_status, name="conversation_status"),
    path("<int:pk>/answered/", views.conversation_answered, name="conversation_answered"),
    path("<int:pk>/category/", views.conversation_category, name="conversation_category"),
    path("<int:pk>/note/", views.conversation_note, name="conversation_note"),
    path("<int:pk>/register/", views.conversation_register, name="conversation_register"),
    path("response-times/", views.response_times, name="response_times"),
    path("saved-replies/", views.saved_reply_list, name="saved_reply_list"),
    path("saved-replies/new/", views.saved_reply_edit, name="saved_reply_create"),
    path("saved-replies/<int:pk>/", views.saved_reply_edit, name="saved_reply_edit"),
    path("routing/", views.routing_rule_list, name="routing_rule_list"),
    path("routing/new/", views.routing_rule_edit, name="routing_rule_create"),
    path("routing/<int:pk>/", views.routing_rule_edit, name="routing_rule_edit"),
]

from django.contrib import admin

from narvaro.channels.models import (
    Account,
    AccountPolicyPublication,
    CommentPolicy,
    CommentPolicyVersion,
)
from narvaro.lib.admin import ReadOnlyAdmin


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["handle", "platform", "unit", "state", "kind"]
    list_filter = ["platform", "state", "kind"]
    search_fields = ["handle", "display_name"]


@admin.register(CommentPolicy)
class CommentPolicyAdmin(ReadOnlyAdmin):
    list_display = ["name", "unit"]


@admin.register(CommentPolicyVersion)
class CommentPolicyVersionAdmin(ReadOnlyAdmin):
    list_display = ["policy", "number", "published_at"]


@admin.register(AccountPolicyPublication)
class AccountPolicyPublicationAdmin(ReadOnlyAdmin):
    list_display = ["account", "version", "published_on"]

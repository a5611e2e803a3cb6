from django.contrib import admin

from narvaro.channels.models import (
    Account,
    AccountPolicyPublication,
    CommentPolicy,
    CommentPolicyVersion,
)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["handle", "platform", "unit", "state", "kind"]
    list_filter = ["platform", "state", "kind"]
    search_fields = ["handle", "display_name"]


@admin.register(CommentPolicy)
class CommentPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "unit"]


@admin.register(CommentPolicyVersion)
class CommentPolicyVersionAdmin(admin.ModelAdmin):
    list_display = ["policy", "number", "published_at"]


@admin.register(AccountPolicyPublication)
class AccountPolicyPublicationAdmin(admin.ModelAdmin):
    list_display = ["account", "version", "published_on"]

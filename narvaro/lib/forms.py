"""Small helpers for forms whose choices depend on who is asking."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict


def set_queryset(field: forms.Field, queryset: QuerySet[Any]) -> None:
    """Restrict a model choice field to `queryset` (what the person may pick)."""
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = queryset


def set_choices(field: forms.Field, choices: list[tuple[Any, Any]]) -> None:
    """Set the choices of a choice field."""
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


def post_data(request: HttpRequest) -> QueryDict | None:
    """The submitted data on POST, None on GET (an unbound form).

    Not `request.POST or None`: a form whose fields were all left empty posts an empty dict,
    which must still be validated and answered, not shown again as if never sent.
    """
    return request.POST if request.method == "POST" else None

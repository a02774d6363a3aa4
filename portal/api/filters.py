"""django-filter, made strict: a query parameter that is present must be valid. django-filter by default treats
`?is_open=maybe` or `?date_to=` as "no filter", so a client's typo silently widens the result; here it is a 400."""

from __future__ import annotations

import django_filters
from django import forms

_TRUE = {"true", "True", "1"}
_FALSE = {"false", "False", "0"}


class StrictBooleanField(forms.Field):
    def clean(self, value):
        if value in (None,):
            return None
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise forms.ValidationError("Use true or false.")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class IdFilter(django_filters.NumberFilter):
    """An object id: a whole number (NumberFilter would take 0.5 and quietly match nothing)."""

    field_class = forms.IntegerField


class ApiFilterSet(django_filters.FilterSet):

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name in self.filters:
            if name in self.data and self.data.get(name) in ("", None):
                self.form.add_error(name, "Give a value, or leave the parameter out.")
                valid = False
        return valid

"""Cursor pagination on every list: stable under inserts, and a page costs the same at row 10 as at row 10,000."""

from __future__ import annotations

from django.conf import settings
from rest_framework.pagination import CursorPagination


class ApiCursorPagination(CursorPagination):
    page_size_query_param = "limit"
    cursor_query_param = "cursor"

    def get_page_size(self, request):
        self.page_size = settings.API_PAGE_SIZE
        self.max_page_size = settings.API_MAX_PAGE_SIZE
        return super().get_page_size(request)

    def get_ordering(self, request, queryset, view):
        return view.ordering  # each list declares a unique, indexed ordering; clients cannot change it

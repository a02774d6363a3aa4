from __future__ import annotations

from django.urls import path

from portal.api.tokens import views

urlpatterns = [
    path("tokens/", views.ApiTokenViewSet.as_view({"get": "list", "post": "create"}), name="token-list"),
    path("tokens/<int:id>/", views.ApiTokenViewSet.as_view({"get": "retrieve", "delete": "destroy"}),
         name="token-detail"),
]

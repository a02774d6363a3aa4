from __future__ import annotations

from django.urls import path

from portal.api.alerts import views

urlpatterns = [
    path("alerts/", views.AlertViewSet.as_view({"get": "list"}), name="alert-list"),
    path("alerts/<int:id>/", views.AlertViewSet.as_view({"get": "retrieve"}), name="alert-detail"),
]

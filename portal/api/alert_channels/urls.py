from __future__ import annotations

from django.urls import path

from portal.api.alert_channels import views

urlpatterns = [
    path("alert-channels/", views.AlertChannelViewSet.as_view({"get": "list", "post": "create"}),
         name="alert-channel-list"),
    path("alert-channels/<int:id>/", views.AlertChannelViewSet.as_view({"get": "retrieve", "delete": "destroy"}),
         name="alert-channel-detail"),
    path("alert-channels/<int:id>/test/", views.AlertChannelViewSet.as_view({"post": "test"}),
         name="alert-channel-test"),
    path("alert-rules/", views.AlertRuleViewSet.as_view({"get": "list", "post": "create"}), name="alert-rule-list"),
    path("alert-rules/<int:id>/", views.AlertRuleViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
         name="alert-rule-detail"),
]

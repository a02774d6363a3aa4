from __future__ import annotations

from django.urls import path

from portal.api.watcher_links import views

urlpatterns = [
    path("watcher-links/", views.WatcherLinkViewSet.as_view({"get": "list", "post": "create"}),
         name="watcher-link-list"),
    path("watcher-links/<int:id>/", views.WatcherLinkViewSet.as_view({"get": "retrieve"}),
         name="watcher-link-detail"),
]

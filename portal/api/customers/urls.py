from __future__ import annotations

from django.urls import path

from portal.api.customers import views

urlpatterns = [
    path("customers/", views.CustomerViewSet.as_view({"get": "list", "post": "create"}), name="customer-list"),
    path("customers/<int:id>/", views.CustomerViewSet.as_view({"get": "retrieve"}), name="customer-detail"),
]

from __future__ import annotations

from django.urls import path

from portal.api.mining import views

ID = "<int:id>"
urlpatterns = [
    path("mining-accounts/", views.MiningAccountViewSet.as_view({"get": "list", "post": "create"}),
         name="mining-account-list"),
    path(f"mining-accounts/{ID}/", views.MiningAccountViewSet.as_view({"get": "retrieve"}),
         name="mining-account-detail"),
    path(f"mining-accounts/{ID}/payout-destination/",
         views.PayoutDestinationViewSet.as_view({"get": "retrieve", "put": "update"}),
         name="mining-account-payout-destination"),
    path("mining-accounts/<int:account_id>/hashrate/", views.AccountHashrateViewSet.as_view({"get": "list"}),
         name="mining-account-hashrate"),
    path("workers/", views.WorkerViewSet.as_view({"get": "list"}), name="worker-list"),
    path(f"workers/{ID}/", views.WorkerViewSet.as_view({"get": "retrieve"}), name="worker-detail"),
    path("workers/<int:worker_id>/hashrate/", views.WorkerHashrateViewSet.as_view({"get": "list"}),
         name="worker-hashrate"),
    path("rewards/", views.RewardViewSet.as_view({"get": "list"}), name="reward-list"),
    path(f"rewards/{ID}/", views.RewardViewSet.as_view({"get": "retrieve"}), name="reward-detail"),
]

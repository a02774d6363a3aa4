"""The public share pages, mounted under s/ (`share` namespace): the token is the credential."""

from django.urls import path

from portal.views.share import public

urlpatterns = [
    path("<str:token>/", public.share_page, name="page"),
    path("<str:token>/hashrate/", public.share_hashrate, name="hashrate"),
]

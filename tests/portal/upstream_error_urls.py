"""The portal's URLs plus two pages whose pool call fails and that do not handle it (test_page_errors.py)."""

from django.urls import path

from mining.whitebit.errors import AuthFailed, UpstreamUnavailable
from portal.urls import urlpatterns as portal_urlpatterns


def pool_down(request):
    raise UpstreamUnavailable("timeout", status=None)


def key_refused(request):
    raise AuthFailed("Unauthorized", status=401)


urlpatterns = [path("test-pool-down/", pool_down), path("test-key-refused/", key_refused), *portal_urlpatterns]

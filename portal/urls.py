from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal import branding
from portal.views import api_tokens, console, health
from portal.views.accounts import auth as accounts_auth

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/", include("portal.api.urls")),  # REST API (issue 11)
    path("login/", accounts_auth.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", console.home, name="home"),
    path("p/<slug:provider_slug>/", console.provider_home, name="provider_home"),
    path("c/<slug:provider_slug>/<slug:customer_slug>/", console.customer_home, name="customer_home"),
    # REST API tokens (issue 11)
    path("p/<slug:provider_slug>/api-tokens/", api_tokens.api_tokens, name="provider_api_tokens"),
    path("c/<slug:provider_slug>/<slug:customer_slug>/api-tokens/", api_tokens.api_tokens,
         name="customer_api_tokens"),
]

# Accounts and access (issue 9): own-account pages, and the staff/customer team and audit pages.
urlpatterns += [
    path("account/", include("portal.views.accounts.urls")),
    path("p/<slug:provider_slug>/", include(("portal.views.staff.urls", "staff"))),
    path("c/<slug:provider_slug>/<slug:customer_slug>/", include(("portal.views.customer.urls", "customer"))),
]

# Share links (issue 21): public, read-only pages under an unguessable token (no tenant in the URL: the token is it).
urlpatterns += [path("s/", include(("portal.views.share.urls", "share")))]
# White label (issue 21): each provider's public brand assets, and the platform operator console.
urlpatterns += [
    path("brand/<slug:provider_slug>/<int:version>/brand.css", branding.brand_css, name="brand_css"),
    path("brand/<slug:provider_slug>/<int:version>/logo.png", branding.brand_logo, name="brand_logo"),
    path("brand/<slug:provider_slug>/<int:version>/favicon.png", branding.brand_favicon, name="brand_favicon"),
    path("operator/", include(("portal.views.operator", "operator"))),
]

from django.urls import path

from portal.views.accounts import auth, invitations, payout_links, preferences, two_factor

app_name = "accounts"

urlpatterns = [
    path("security/", two_factor.security, name="security"),
    path("preferences/", preferences.preferences, name="preferences"),
    path("two-factor/setup/", two_factor.otp_setup, name="otp_setup"),
    path("two-factor/verify/", auth.otp_verify, name="otp_verify"),
    path("two-factor/recovery-codes/", two_factor.recovery_codes_regenerate, name="recovery_codes"),
    path("two-factor/disable/", two_factor.otp_disable, name="otp_disable"),
    path("sign-out-everywhere/", auth.sign_out_everywhere, name="sign_out_everywhere"),
    path("password/", auth.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", auth.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", auth.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", auth.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("password/reset/done/", auth.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("invitation/<str:token>/", invitations.invitation_accept_view, name="invitation_accept"),
    # Held payout changes (issue 15): the link's token is the credential (mining/services/payouts.py).
    path("payout-change/confirm/<str:token>/", payout_links.payout_change_confirm_view, name="payout_change_confirm"),
    path("payout-change/cancel/<str:token>/", payout_links.payout_change_cancel_link_view,
         name="payout_change_cancel_link"),
]

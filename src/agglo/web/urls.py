from django.contrib.auth import views as auth_views
from django.urls import path

from agglo.web import account_views, node_views, people_views, views
from agglo.web import auth_views as agglo_auth

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", agglo_auth.login_view, name="login"),
    path("login/code/", agglo_auth.login_code, name="login_code"),
    path("account/", account_views.account, name="account"),
    path("account/tokens/", account_views.token_issue, name="token_issue"),
    path("account/tokens/<int:pk>/revoke/", account_views.token_revoke, name="token_revoke"),
    path("account/two-factor/", agglo_auth.two_factor, name="two_factor"),
    path("account/password/", agglo_auth.PasswordChange.as_view(), name="password_change"),
    path("account/password/reset/", agglo_auth.PasswordReset.as_view(), name="password_reset"),
    path("account/password/reset/sent/", agglo_auth.PasswordResetSent.as_view(), name="password_reset_done"),
    path(
        "account/password/reset/<uidb64>/<token>/",
        agglo_auth.PasswordResetSet.as_view(),
        name="password_reset_confirm",
    ),
    path("account/password/reset/done/", agglo_auth.PasswordResetComplete.as_view(), name="password_reset_complete"),
    path("account/people/", people_views.people_index, name="people"),
    path("account/people/<int:pk>/<slug:action>/", people_views.member_action, name="member_action"),
    path("account/invitations/<int:pk>/withdraw/", people_views.invitation_withdraw, name="invitation_withdraw"),
    path("invitations/<str:token>/", people_views.invitation_page, name="invitation"),
    path("account/nodes/", node_views.node_index, name="nodes"),
    path("account/nodes/<int:pk>/token/", node_views.node_token, name="node_token"),
    path("account/nodes/<int:pk>/<slug:action>/", node_views.node_action, name="node_action"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/", views.notification_open, name="notification_open"),
]

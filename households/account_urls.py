"""Accounts pages, mounted at /accounts/ under the namespace "accounts" (households.account_views)."""

from django.urls import path

from households import account_views as views

app_name = "accounts"

urlpatterns = [
    # every signed-in user
    path("password/", views.password_change, name="password_change"),
    path("password/done/", views.password_change_done, name="password_change_done"),
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/revoke/", views.token_revoke, name="token_revoke"),
    # administrators: the users of their subtree
    path("users/", views.user_list, name="users"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/edit/", views.user_edit, name="user_edit"),
    path("users/<int:pk>/password/", views.user_password, name="user_password"),
    path("users/<int:pk>/deactivate/", views.user_deactivate, name="user_deactivate"),
    path("users/<int:pk>/tokens/revoke/", views.user_tokens_revoke, name="user_tokens_revoke"),
    path("lockouts/", views.lockouts, name="lockouts"),
    path("lockouts/reset/", views.lockout_reset, name="lockout_reset"),
    path("sensitive-accesses/", views.sensitive_accesses, name="sensitive_accesses"),
    # the province's administrators: shared reference data
    path("monitoring-lines/", views.monitoring_lines, name="monitoring_lines"),
]

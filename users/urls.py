from django.urls import path

from . import views

app_name = "users"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("settings/", views.settings_profile, name="settings"),
    path("settings/tokens/", views.settings_tokens, name="tokens"),
    path("settings/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("settings/users/", views.settings_users, name="users"),
    path("settings/users/<int:pk>/", views.settings_user_edit, name="user_edit"),
    path("settings/teams/", views.settings_teams, name="teams"),
    path("settings/fields/", views.settings_custom_fields, name="custom_fields"),
    path("settings/fields/<int:pk>/delete/", views.custom_field_delete, name="custom_field_delete"),
]

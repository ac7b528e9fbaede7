"""Pages of the shared kernel: sign in and out, home, health."""

from django.contrib.auth import views as auth_views
from django.urls import path

from core import health, views
from core.lockout import LockoutAuthenticationForm

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=LockoutAuthenticationForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("health/", health.health, name="health"),
]

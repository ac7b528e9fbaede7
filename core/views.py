"""Pages of the shared kernel. Signing in and out are Django's own views (see ``core.urls``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_safe


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The portal starts at the dashboard."""
    return redirect("dashboard:home")

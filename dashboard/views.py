"""The dashboard page: the portal's start page for every signed-in user."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from dashboard.selectors import dashboard_for


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """Portfolio counts, what is overdue or failing, what waits for the user, and the compliance trend."""
    return render(request, "dashboard/home.html", {"dashboard": dashboard_for(user=request.user)})

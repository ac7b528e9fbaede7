"""Kernel pages: signing in and out, the page layout, and the error pages users see instead of stack traces."""

from __future__ import annotations

import pytest
from django.core.exceptions import SuspiciousOperation
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import bad_request, server_error

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("login")
LOGOUT_URL = reverse("logout")
LIST_URL = reverse("inventory:model-list")
PASSWORD = "correct-horse-battery"  # the factories' password


def test_home_sends_anonymous_users_to_sign_in_and_others_to_the_dashboard(client, personas):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN_URL}?next=/"
    client.force_login(personas.owner_a)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"


def test_login_page_has_labelled_fields(client, db):
    response = client.get(LOGIN_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_username">' in html
    assert '<label for="id_password">' in html
    assert "<main" in html and "<header" in html


def test_sign_in_lands_on_the_inventory(client, personas):
    response = client.post(LOGIN_URL, {"username": "owner_a", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    assert client.get(LIST_URL).status_code == 200


def test_sign_in_follows_next(client, personas):
    target = reverse("inventory:model-detail", args=["RB-0001"])
    response = client.post(f"{LOGIN_URL}?next={target}", {"username": "owner_a", "password": PASSWORD, "next": target})
    assert response["Location"] == target


@pytest.mark.parametrize(
    ("username", "password"),
    [("owner_a", "wrong-password"), ("nobody", PASSWORD), ("ci_scoped", ""), ("ci_scoped", PASSWORD)],
)
def test_bad_credentials_show_a_clear_error(client, personas, username, password):
    response = client.post(LOGIN_URL, {"username": username, "password": password})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Could not sign you in" in html
    assert 'role="alert"' in html
    assert "_auth_user_id" not in client.session


def test_wrong_password_message_names_the_problem(client, personas):
    response = client.post(LOGIN_URL, {"username": "owner_a", "password": "wrong-password"})
    assert "Please enter a correct username and password" in response.content.decode()


def test_sign_out_is_a_post(client, personas):
    client.force_login(personas.owner_a)
    assert client.get(LOGOUT_URL).status_code == 405
    assert "_auth_user_id" in client.session
    response = client.post(LOGOUT_URL)
    assert response.status_code == 302
    assert response["Location"] == LOGIN_URL
    assert "_auth_user_id" not in client.session
    assert client.get(LIST_URL).status_code == 302


def test_header_shows_the_user_roles_and_navigation(client, personas):
    client.force_login(personas.owner_a)
    html = client.get(LIST_URL).content.decode()
    assert personas.owner_a.get_full_name() in html
    assert "(owner_a)" in html
    assert "Model Owner" in html
    assert 'aria-label="Main"' in html
    assert f'href="{LIST_URL}" aria-current="page"' in html
    assert f'href="{reverse("inventory:unit-list")}"' in html
    assert 'href="/api/docs/"' in html
    assert 'href="/admin/"' not in html
    assert f'<form method="post" action="{LOGOUT_URL}">' in html
    assert 'class="skip-link" href="#main"' in html


def test_admin_link_only_for_staff(client, personas):
    client.force_login(personas.admin)
    assert 'href="/admin/"' in client.get(LIST_URL).content.decode()
    client.force_login(personas.risk_officer)
    assert 'href="/admin/"' not in client.get(LIST_URL).content.decode()


def test_unknown_page_is_the_portal_404(client, personas):
    client.force_login(personas.owner_a)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert "Traceback" not in html
    assert 'aria-label="Main"' in html


def test_server_error_page_has_no_details(db):
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html
    assert "Traceback" not in html


def test_bad_request_page_has_no_details(db):
    response = bad_request(RequestFactory().get("/"), SuspiciousOperation("Invalid HTTP_HOST header"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Bad request" in html
    assert "HTTP_HOST" not in html


def test_form_posted_without_csrf_token_is_refused_with_the_portal_page(personas):
    client = Client(enforce_csrf_checks=True)
    response = client.post(LOGIN_URL, {"username": "owner_a", "password": PASSWORD})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()

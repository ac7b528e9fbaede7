"""``python manage.py verify_gate_token TOKEN [--jwks FILE|URL]``: verify a decision token and print its claims."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gate import signing


def load_jwks(source: str, *, timeout: float = 10.0) -> dict[str, Any]:
    """A JWKS read from an http(s) URL or a file."""
    try:
        if urlsplit(source).scheme in {"http", "https"}:
            with urllib.request.urlopen(source, timeout=timeout) as response:  # noqa: S310 - scheme checked above  # nosec B310
                text = response.read(1_000_000).decode("utf-8")
        else:
            text = Path(source).read_text(encoding="utf-8")
        jwks = json.loads(text)
    except (OSError, ValueError) as exc:
        raise CommandError(f"--jwks {source}: cannot read a JWKS ({exc}).") from None
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise CommandError(f"--jwks {source}: not a JWKS (no 'keys' list).")
    return jwks


class Command(BaseCommand):
    help = (
        "Verify a deployment gate decision token (signature, kid, expiry) and print its claims as JSON. "
        "Without --jwks the portal's own public keys are used; give a file or the URL of another portal's "
        "/.well-known/jwks.json to verify offline or elsewhere. Exits with an error when the token does not verify."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("token", help="The compact JWS the gate returned.")
        parser.add_argument("--jwks", help="A JWKS file or http(s) URL (default: this portal's keys).")
        parser.add_argument("--issuer", help="Also require this `iss` (the portal's PORTAL_BASE_URL).")
        parser.add_argument("--leeway", type=int, default=0, help="Seconds of clock skew to tolerate on exp/iat.")

    def handle(self, *args: Any, **options: Any) -> None:
        jwks = load_jwks(options["jwks"]) if options["jwks"] else signing.public_jwks()
        try:
            claims = signing.verify(options["token"].strip(), jwks, issuer=options["issuer"], leeway=options["leeway"])
        except signing.TokenInvalid as exc:
            raise CommandError(f"The token does not verify: {exc}") from None
        self.stdout.write(json.dumps(claims, indent=2, sort_keys=True))

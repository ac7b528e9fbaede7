"""``verify_gate_token``: offline verification with the portal's keys or a JWKS file."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import call_command
from django.core.management.base import CommandError

from gate import signing
from gate.services import gate_check
from tests.gate.conftest import DIGEST

pytestmark = pytest.mark.django_db


def test_a_token_verifies_and_its_claims_are_printed(personas: Any, approved_version: Any, tmp_path: Any) -> None:
    decision = gate_check(
        actor=personas.ci_scoped, model_key="RB-0001", version_label="1.0.0", environment="production", digest=DIGEST
    )
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(signing.public_jwks()))

    for extra in ([], ["--jwks", str(jwks_file), "--issuer", "http://127.0.0.1:8000"]):
        out = StringIO()
        call_command("verify_gate_token", decision.token, *extra, stdout=out)
        claims = json.loads(out.getvalue())
        assert (claims["jti"], claims["decision"], claims["digest"]) == (str(decision.pk), "allow", DIGEST)

    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(CommandError, match="does not verify"):
        call_command("verify_gate_token", decision.token[:-4] + "AAAA", stdout=StringIO())
    jwks_file.write_text(
        json.dumps({"keys": [signing.public_jwk(serialization.load_pem_private_key(other, None).public_key())]})
    )
    with pytest.raises(CommandError, match="No key with kid"):
        call_command("verify_gate_token", decision.token, "--jwks", str(jwks_file), stdout=StringIO())
    jwks_file.write_text("{}")
    with pytest.raises(CommandError, match="not a JWKS"):
        call_command("verify_gate_token", decision.token, "--jwks", str(jwks_file), stdout=StringIO())

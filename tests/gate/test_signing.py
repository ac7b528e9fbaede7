"""Decision tokens: signing, offline verification, tampering, wrong keys, the JWKS and key rotation."""

from __future__ import annotations

import base64
import json
import stat
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from django.core.exceptions import ImproperlyConfigured

from gate import signing


def claims(**change: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": "http://127.0.0.1:8000",
        "sub": "RB-0001",
        "version": "1.0.0",
        "environment": "production",
        "digest": "sha256:" + "a" * 64,
        "decision": "allow",
        "reasons": [],
        "jti": "5d7c1c6e-4b7f-4b1e-9d64-0b1a2c3d4e5f",
        "iat": now,
        "exp": now + 3600,
        **change,
    }


def private_pem(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(key: Any) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_a_signed_token_verifies_with_the_published_jwks() -> None:
    token = signing.sign(claims())
    jwks = json.loads(json.dumps(signing.public_jwks()))  # as a client would read it

    verified = signing.verify(token, jwks, issuer="http://127.0.0.1:8000")

    assert verified["sub"] == "RB-0001"
    assert verified["decision"] == "allow"
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    assert header["kid"] == jwks["keys"][0]["kid"] == signing.signing_key().kid
    assert set(jwks["keys"][0]) == {"kty", "crv", "x", "y", "kid", "alg", "use"}


def test_a_tampered_token_fails() -> None:
    header, payload, signature = signing.sign(claims()).split(".")
    forged = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged["decision"] = "allow" if forged["decision"] == "deny" else "deny"
    forged_payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()

    with pytest.raises(signing.TokenInvalid):
        signing.verify(f"{header}.{forged_payload}.{signature}", signing.public_jwks())


def test_a_token_signed_with_another_key_fails(gate_settings: Any) -> None:
    token = signing.sign(claims())
    gate_settings.GATE_SIGNING_KEY = private_pem(ec.generate_private_key(ec.SECP256R1()))

    with pytest.raises(signing.TokenInvalid, match="No key with kid"):
        signing.verify(token, signing.public_jwks())


def test_a_token_claiming_the_right_kid_but_signed_by_another_key_fails() -> None:
    kid = signing.signing_key().kid
    impostor = jwt.encode(claims(), ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": kid})

    with pytest.raises(signing.TokenInvalid, match="Signature verification failed"):
        signing.verify(impostor, signing.public_jwks())


def test_expired_unsigned_and_garbage_tokens_fail() -> None:
    jwks = signing.public_jwks()
    kid = jwks["keys"][0]["kid"]
    expired = signing.sign(claims(iat=1_000_000, exp=1_000_060))
    unsigned = jwt.encode(claims(), None, algorithm="none", headers={"kid": kid})  # type: ignore[arg-type]
    # Algorithm confusion: an HMAC "signed" with public key material must not pass for the key's own algorithm.
    hmac = jwt.encode(claims(), jwks["keys"][0]["x"], algorithm="HS256", headers={"kid": kid})

    for token in (expired, unsigned, hmac, "not-a-token", ""):
        with pytest.raises(signing.TokenInvalid):
            signing.verify(token, jwks)
    with pytest.raises(signing.TokenInvalid, match="issuer"):
        signing.verify(signing.sign(claims()), jwks, issuer="https://other.example")


def test_the_kid_is_the_rfc_7638_thumbprint() -> None:
    # RFC 8037 appendix A.3: the thumbprint of its Ed25519 example key.
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert signing.jwk_thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_the_generated_key_is_kept_private_and_reused(gate_settings: Any) -> None:
    first = signing.signing_key()
    path = gate_settings.GATE_KEY_DIR / signing.GENERATED_KEY_NAME

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    signing._signing_key.cache_clear()
    assert signing.signing_key().kid == first.kid


def test_a_configured_ed25519_key_signs_eddsa_tokens(gate_settings: Any) -> None:
    gate_settings.GATE_SIGNING_KEY = private_pem(ed25519.Ed25519PrivateKey.generate())

    token = signing.sign(claims())

    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"
    assert signing.verify(token, signing.public_jwks())["sub"] == "RB-0001"
    assert not (gate_settings.GATE_KEY_DIR / signing.GENERATED_KEY_NAME).exists()


def test_tokens_of_a_previous_key_verify_after_rotation(gate_settings: Any) -> None:
    old = ec.generate_private_key(ec.SECP256R1())
    gate_settings.GATE_SIGNING_KEY = private_pem(old)
    old_token = signing.sign(claims())

    gate_settings.GATE_SIGNING_KEY = private_pem(ed25519.Ed25519PrivateKey.generate())
    with pytest.raises(signing.TokenInvalid):
        signing.verify(old_token, signing.public_jwks())
    gate_settings.GATE_PREVIOUS_PUBLIC_KEYS = (
        public_pem(old) + "\n" + public_pem(ec.generate_private_key(ec.SECP256R1()))
    )

    jwks = signing.public_jwks()
    assert len(jwks["keys"]) == 3
    assert signing.verify(old_token, jwks)["sub"] == "RB-0001"
    assert signing.verify(signing.sign(claims()), jwks)["sub"] == "RB-0001"


def test_unreadable_configured_keys_stop_the_start(gate_settings: Any) -> None:
    gate_settings.GATE_SIGNING_KEY = "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----"
    with pytest.raises(ImproperlyConfigured, match="GATE_SIGNING_KEY"):
        signing.check_configured_keys()

    gate_settings.GATE_SIGNING_KEY = private_pem(ec.generate_private_key(ec.SECP384R1()))
    with pytest.raises(ImproperlyConfigured, match="P-256"):
        signing.check_configured_keys()

    gate_settings.GATE_SIGNING_KEY = None
    gate_settings.GATE_PREVIOUS_PUBLIC_KEYS = "not a pem"
    with pytest.raises(ImproperlyConfigured, match="GATE_PREVIOUS_PUBLIC_KEYS"):
        signing.check_configured_keys()

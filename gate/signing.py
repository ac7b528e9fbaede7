"""The portal's signing key for gate decision tokens, its public JWKS, and offline verification.

Tokens are compact JWS: ES256 with a P-256 key (the default, and what every JOSE library verifies) or EdDSA with
an Ed25519 key, whichever the PEM holds. The ``kid`` header is the key's RFC 7638 JWK thumbprint, so a verifier
picks the right key from the JWKS and a rotated key keeps verifying the tokens it signed.

Where the key comes from: ``GATE_SIGNING_KEY`` (or, as every secret, ``GATE_SIGNING_KEY_FILE``), a PEM private
key. Without it, a key is generated once and kept in ``GATE_KEY_DIR`` (``var/keys/``) with mode 0600, which
suits a laptop or a single host; production sets the key explicitly, so every web process signs with it.
Public keys of earlier keys (``GATE_PREVIOUS_PUBLIC_KEYS[_FILE]``, concatenated PEM blocks) stay in the JWKS,
so tokens signed before a rotation still verify.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

GENERATED_KEY_NAME = "gate-signing-key.pem"
ALGORITHMS = ("ES256", "EdDSA")
_PEM_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)


class TokenInvalid(Exception):
    """A decision token that does not verify: malformed, tampered with, signed by an unknown key, or expired."""


@dataclass(frozen=True)
class SigningKey:
    """The private key the portal signs with, its algorithm and its key id (RFC 7638 thumbprint)."""

    private_key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    algorithm: str
    kid: str


def _algorithm(key: Any) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise ImproperlyConfigured(f"The gate signs with P-256 EC keys; this key uses {key.curve.name}.")
        return "ES256"
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "EdDSA"
    raise ImproperlyConfigured("The gate signs with an EC P-256 (ES256) or Ed25519 (EdDSA) key.")


def public_jwk(public_key: Any) -> dict[str, str]:
    """A public key as a JWK with ``kid`` (its thumbprint), ``alg`` and ``use``."""
    algorithm = _algorithm(public_key)
    codec = jwt.algorithms.ECAlgorithm if algorithm == "ES256" else jwt.algorithms.OKPAlgorithm
    jwk: dict[str, str] = json.loads(codec.to_jwk(public_key))
    jwk = {name: value for name, value in jwk.items() if name in {"kty", "crv", "x", "y"}}
    return {**jwk, "kid": jwk_thumbprint(jwk), "alg": algorithm, "use": "sig"}


def jwk_thumbprint(jwk: Mapping[str, str]) -> str:
    """RFC 7638: base64url SHA-256 of the key's required members, sorted, in compact JSON."""
    required = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("crv", "kty", "x")
    document = json.dumps({name: jwk[name] for name in required}, sort_keys=True, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(document.encode()).digest()).rstrip(b"=").decode()


def _load_private(pem: str, source: str) -> Any:
    try:
        return serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{source}: not an unencrypted PEM private key ({exc}).") from None


def _generated_key(key_dir: Path) -> str:
    """The PEM of the key kept in ``key_dir``, generated on first use (mode 0600, never overwritten)."""
    path = key_dir / GENERATED_KEY_NAME
    if not path.exists():
        key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            # O_EXCL: when two processes start together, one writes the key and the other reads that one.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(pem)
    return path.read_text(encoding="utf-8")


@lru_cache(maxsize=4)
def _signing_key(configured_pem: str | None, key_dir: str) -> SigningKey:
    if configured_pem:
        private = _load_private(configured_pem, "GATE_SIGNING_KEY")
    else:
        private = _load_private(_generated_key(Path(key_dir)), str(Path(key_dir) / GENERATED_KEY_NAME))
    algorithm = _algorithm(private)
    return SigningKey(private, algorithm, public_jwk(private.public_key())["kid"])


@lru_cache(maxsize=4)
def _previous_jwks(previous_pem: str | None) -> tuple[dict[str, str], ...]:
    keys = []
    for block in _PEM_BLOCK.findall(previous_pem or ""):
        try:
            public = serialization.load_pem_public_key(block.encode())
        except ValueError as exc:
            raise ImproperlyConfigured(f"GATE_PREVIOUS_PUBLIC_KEYS: a block is not a PEM public key ({exc}).") from None
        keys.append(public_jwk(public))
    if previous_pem and not keys:
        raise ImproperlyConfigured("GATE_PREVIOUS_PUBLIC_KEYS holds no '-----BEGIN PUBLIC KEY-----' block.")
    return tuple(keys)


def signing_key() -> SigningKey:
    """The key the portal signs decision tokens with (configured, or generated once under ``GATE_KEY_DIR``)."""
    return _signing_key(settings.GATE_SIGNING_KEY, str(settings.GATE_KEY_DIR))


def public_jwks() -> dict[str, list[dict[str, str]]]:
    """The JWKS to publish: the current public key first, then those of previous keys still trusted."""
    current = public_jwk(signing_key().private_key.public_key())
    previous = [jwk for jwk in _previous_jwks(settings.GATE_PREVIOUS_PUBLIC_KEYS) if jwk["kid"] != current["kid"]]
    return {"keys": [current, *previous]}


def check_configured_keys() -> None:
    """Refuse, at start-up, a configured key or previous-key file that cannot be read."""
    if settings.GATE_SIGNING_KEY:
        _signing_key(settings.GATE_SIGNING_KEY, str(settings.GATE_KEY_DIR))
    _previous_jwks(settings.GATE_PREVIOUS_PUBLIC_KEYS)


def sign(claims: Mapping[str, Any]) -> str:
    """``claims`` as a compact JWS signed with the portal's key, ``kid`` in the header."""
    key = signing_key()
    return jwt.encode(dict(claims), key.private_key, algorithm=key.algorithm, headers={"kid": key.kid, "typ": "JWT"})


def verify(token: str, jwks: Mapping[str, Any], *, issuer: str | None = None, leeway: int = 0) -> dict[str, Any]:
    """The claims of a decision token that verifies against ``jwks``; :class:`TokenInvalid` otherwise.

    The key is chosen by the token's ``kid``; the algorithm is the key's own (never the one the token claims),
    ``exp`` and ``iat`` are required and checked, and so is ``iss`` when ``issuer`` is given.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenInvalid(f"Not a compact JWS: {exc}") from None
    kid = header.get("kid")
    matches = [jwk for jwk in jwks.get("keys", []) if isinstance(jwk, Mapping) and jwk.get("kid") == kid]
    if not matches:
        raise TokenInvalid(f"No key with kid {kid!r} in the key set.")
    try:
        key = jwt.PyJWK(dict(matches[0]))
        algorithm = key.algorithm_name
        if algorithm not in ALGORITHMS:
            raise TokenInvalid(f"Key {kid} uses {algorithm}, which the gate does not sign with.")
        return jwt.decode(
            token,
            key.key,
            algorithms=[algorithm],
            issuer=issuer,
            leeway=leeway,
            options={"require": ["exp", "iat", "iss", "sub", "jti"], "verify_aud": False},
        )
    except jwt.PyJWTError as exc:
        raise TokenInvalid(str(exc) or type(exc).__name__) from None

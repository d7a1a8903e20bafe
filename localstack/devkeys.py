"""Makes the development signing key for local tokens: an RSA key pair in .local/dev-jwt/
(private.pem, and jwks.json with the public half). Generated per machine, never committed."""

import base64
import json
import pathlib
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_ID = "weelo-local-1"


def b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def main(out_dir: str) -> None:
    out = pathlib.Path(out_dir)
    if (out / "private.pem").exists() and (out / "jwks.json").exists():
        return
    out.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (out / "private.pem").write_bytes(pem)
    (out / "private.pem").chmod(0o600)
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "kid": KEY_ID, "use": "sig", "alg": "RS256", "n": b64url_uint(numbers.n), "e": b64url_uint(numbers.e)}
    (out / "jwks.json").write_text(json.dumps({"keys": [jwk]}, indent=2))


if __name__ == "__main__":
    main(sys.argv[1])

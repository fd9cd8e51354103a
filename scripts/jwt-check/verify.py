"""Verifies QTS access tokens with PyJWT, a standard JWT library in another language, against
the SSO's JWKS endpoint: the signature (EdDSA, the key found by the token's `kid`), issuer,
audience and expiry. Prints one JSON line per token: {"ok": true, "claims": {...}} or
{"ok": false, "error": "..."}.

Usage: verify.py JWKS_URL ISSUER AUDIENCE TOKEN [TOKEN ...]
"""

import json
import sys

import jwt


def main() -> int:
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    jwks_url, issuer, audience, tokens = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    client = jwt.PyJWKClient(jwks_url, cache_keys=True)
    for token in tokens:
        try:
            key = client.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["EdDSA"],
                audience=audience,
                issuer=issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
            print(json.dumps({"ok": True, "claims": claims}))
        except Exception as e:  # noqa: BLE001 - every failure is a verdict
            print(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

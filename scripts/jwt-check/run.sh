#!/usr/bin/env bash
# Verifies QTS access tokens with PyJWT (a JWT library in another language) against the SSO's
# JWKS: `run.sh JWKS_URL ISSUER AUDIENCE TOKEN...` (see verify.py). PyJWT and cryptography are
# pinned in a virtualenv under $HOME/.cache/qts/jwt-venv (QTS_JWT_VENV), made on first use.
# Exit status: 0 ran (each token's verdict on its own line), 2 set-up failed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${QTS_JWT_VENV:-$HOME/.cache/qts/jwt-venv}"
pins=(PyJWT==2.10.1 cryptography==50.0.2)

command -v python3 >/dev/null || { echo "jwt-check: python3 not found" >&2; exit 2; }
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
  rm -rf "$venv"
  python3 -m venv "$venv" || { echo "jwt-check: cannot create a virtualenv at $venv" >&2; exit 2; }
fi
marker="$venv/.qts-jwt-pins"
if [[ "$(cat "$marker" 2>/dev/null)" != "${pins[*]}" ]]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[@]}" \
    || { echo "jwt-check: pip install ${pins[*]} failed" >&2; exit 2; }
  echo "${pins[*]}" > "$marker"
fi
exec 9>&-
exec "$venv/bin/python" "$here/verify.py" "$@"

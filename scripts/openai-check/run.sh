#!/usr/bin/env bash
# Talks to an OpenAI-compatible API with OpenAI's own Python client, unchanged: `run.sh BASE_URL
# CHAT_MODEL EMBEDDING_MODEL` (see client.py). The `openai` package is pinned in a virtualenv
# under $HOME/.cache/qts/openai-venv (QTS_OPENAI_VENV), made on first use.
# Exit status: 0 every call worked (a JSON summary on stdout), 1 a call failed, 2 set-up failed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${QTS_OPENAI_VENV:-$HOME/.cache/qts/openai-venv}"
pins=(openai==3.57.0)

command -v python3 >/dev/null || { echo "openai-check: python3 not found" >&2; exit 2; }
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
  rm -rf "$venv"
  python3 -m venv "$venv" || { echo "openai-check: cannot create a virtualenv at $venv" >&2; exit 2; }
fi
marker="$venv/.qts-openai-pins"
if [[ "$(cat "$marker" 2>/dev/null)" != "${pins[*]}" ]]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[@]}" \
    || { echo "openai-check: pip install ${pins[*]} failed" >&2; exit 2; }
  echo "${pins[*]}" > "$marker"
fi
exec 9>&-
exec "$venv/bin/python" "$here/client.py" "$@"

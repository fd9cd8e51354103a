#!/usr/bin/env bash
# Drives fcsim with SSI's official Python SDKs, unchanged: ssi-fc-data 2.2.2 and
# ssi-fctrading 2.5.3 (pinned), in a virtualenv under $HOME/.cache/qts/sdk-venv.
#
# Simulator URLs come from FCSIM_DATA_URL and FCSIM_TRADING_URL. When they are unset the
# script starts `qts sim --data-port 0 --trading-port 0 --start 2025-06-10T10:00:00+07:00`
# itself (QTS_BIN, else `qts` on PATH) and stops it on exit.
#
# Other settings: FCSIM_KEY_FILE (default: the demo key), FCSIM_DATE (simulated today,
# dd/MM/yyyy, default 10/06/2025), FCSIM_ACCOUNT, FCSIM_PIN, FCSIM_TIMEOUT (seconds),
# QTS_SDK_VENV (virtualenv directory).
# Exit status: 0 all checks passed, 1 a check failed, 2 set-up failed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${QTS_SDK_VENV:-$HOME/.cache/qts/sdk-venv}"
pins=(ssi-fc-data==2.2.2 ssi-fctrading==2.5.3)

command -v python3 >/dev/null || { echo "sdk-conformance: python3 not found" >&2; exit 2; }
if [[ ! -x "$venv/bin/python" ]]; then
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv" || { echo "sdk-conformance: cannot create a virtualenv at $venv" >&2; exit 2; }
fi
marker="$venv/.qts-sdk-pins"
if [[ "$(cat "$marker" 2>/dev/null)" != "${pins[*]}" ]]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[@]}" \
    || { echo "sdk-conformance: pip install ${pins[*]} failed" >&2; exit 2; }
  echo "${pins[*]}" > "$marker"
fi

sim_pid=""
cleanup() {
  if [[ -n "$sim_pid" ]]; then
    kill -TERM "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

if [[ -z "${FCSIM_DATA_URL:-}" || -z "${FCSIM_TRADING_URL:-}" ]]; then
  qts="${QTS_BIN:-$(command -v qts || true)}"
  [[ -n "$qts" ]] || { echo "sdk-conformance: set FCSIM_DATA_URL/FCSIM_TRADING_URL or QTS_BIN" >&2; exit 2; }
  out="$(mktemp)"
  "$qts" sim --data-port 0 --trading-port 0 --v3-tls-port 0 --start 2025-06-10T10:00:00+07:00 >"$out" 2>/dev/null &
  sim_pid=$!
  for _ in $(seq 1 600); do
    grep -q '^simulating from' "$out" && break
    kill -0 "$sim_pid" 2>/dev/null || { echo "sdk-conformance: qts sim exited" >&2; exit 2; }
    sleep 0.2
  done
  FCSIM_DATA_URL="$(awk '/^fc-data /{print $2}' "$out")"
  FCSIM_TRADING_URL="$(awk '/^fc-trading /{print $2}' "$out")"
  [[ -n "$FCSIM_DATA_URL" && -n "$FCSIM_TRADING_URL" ]] || { echo "sdk-conformance: qts sim printed no URLs" >&2; exit 2; }
fi

export FCSIM_DATA_URL FCSIM_TRADING_URL
export FCSIM_KEY_FILE="${FCSIM_KEY_FILE:-$repo/crates/fcsim/demo/demo_key.xml.b64}"
echo "sdk-conformance: ${pins[*]} against data $FCSIM_DATA_URL, trading $FCSIM_TRADING_URL"
"$venv/bin/python" "$here/drive.py"

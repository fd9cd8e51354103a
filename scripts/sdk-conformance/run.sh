#!/usr/bin/env bash
# Drives fcsim with SSI's official Python SDKs, unchanged: ssi-fc-data 2.2.2 and
# ssi-fctrading 2.5.3 (FastConnect v2, drive.py) and ssi-sdk 3.3.2 (FastConnect v3,
# drive_v3.py), pinned, in a virtualenv under $HOME/.cache/qts/sdk-venv.
#
# Simulator URLs come from FCSIM_DATA_URL and FCSIM_TRADING_URL (v2) and FCSIM_V3_URL,
# FCSIM_V3_STREAM_URL (wss) and SSL_CERT_FILE (the simulator's certificate) for v3; each
# generation runs when its URLs are set. When none is set the script starts
# `qts sim --data-port 0 --trading-port 0 --v3-tls-port 0 --start 2025-06-10T10:00:00+07:00`
# itself (QTS_BIN, else `qts` on PATH), runs both, and stops it on exit.
#
# Other settings: FCSIM_KEY_FILE (default: the demo key), FCSIM_DATE (simulated today,
# dd/MM/yyyy, default 10/06/2025), FCSIM_ACCOUNT, FCSIM_PIN, FCSIM_TIMEOUT (seconds),
# FCSIM_OTP_OUTBOX (the simulator's otp_outbox file: v3 SMS-OTP login), QTS_SDK_VENV (virtualenv directory).
# Exit status: 0 all checks passed, 1 a check failed, 2 set-up failed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${QTS_SDK_VENV:-$HOME/.cache/qts/sdk-venv}"
pins=(ssi-fc-data==2.2.2 ssi-fctrading==2.5.3 ssi-sdk==3.3.2)

command -v python3 >/dev/null || { echo "sdk-conformance: python3 not found" >&2; exit 2; }
# Tests run this script concurrently: one creates and fills the virtualenv, the others wait.
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
  # Missing, or left half-made by an interrupted run: (re)create it.
  rm -rf "$venv"
  python3 -m venv "$venv" || { echo "sdk-conformance: cannot create a virtualenv at $venv" >&2; exit 2; }
fi
marker="$venv/.qts-sdk-pins"
if [[ "$(cat "$marker" 2>/dev/null)" != "${pins[*]}" ]]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[@]}" \
    || { echo "sdk-conformance: pip install ${pins[*]} failed" >&2; exit 2; }
  echo "${pins[*]}" > "$marker"
fi
exec 9>&-

sim_pid=""
cleanup() {
  if [[ -n "$sim_pid" ]]; then
    kill -TERM "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

if [[ -z "${FCSIM_DATA_URL:-}" && -z "${FCSIM_V3_URL:-}" ]]; then
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
  FCSIM_V3_URL="$(awk '/^fc-v3 /{print $2}' "$out")"
  FCSIM_V3_STREAM_URL="$(awk '/^fc-v3-tls /{print $4}' "$out")"
  SSL_CERT_FILE="$(awk '/^fc-v3-tls /{print $6}' "$out")"
  export SSL_CERT_FILE
  [[ -n "$FCSIM_DATA_URL" && -n "$FCSIM_TRADING_URL" && -n "$FCSIM_V3_URL" ]] || { echo "sdk-conformance: qts sim printed no URLs" >&2; exit 2; }
fi

export FCSIM_KEY_FILE="${FCSIM_KEY_FILE:-$repo/crates/fcsim/demo/demo_key.xml.b64}"
status=0
if [[ -n "${FCSIM_DATA_URL:-}" && -n "${FCSIM_TRADING_URL:-}" ]]; then
  export FCSIM_DATA_URL FCSIM_TRADING_URL
  echo "sdk-conformance: ${pins[*]} against data $FCSIM_DATA_URL, trading $FCSIM_TRADING_URL"
  "$venv/bin/python" "$here/drive.py" || status=1
fi
if [[ -n "${FCSIM_V3_URL:-}" ]]; then
  [[ -n "${FCSIM_V3_STREAM_URL:-}" ]] || { echo "sdk-conformance: FCSIM_V3_STREAM_URL (wss://) is required with FCSIM_V3_URL" >&2; exit 2; }
  export FCSIM_V3_URL FCSIM_V3_STREAM_URL
  echo "sdk-conformance: ssi-sdk against v3 $FCSIM_V3_URL, stream $FCSIM_V3_STREAM_URL"
  "$venv/bin/python" "$here/drive_v3.py" || status=1
fi
exit "$status"

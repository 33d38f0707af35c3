#!/usr/bin/env bash
# `make test`: the whole suite. Formatting and lints, unit tests, the storage
# suite on SQLite and PostgreSQL, and the end-to-end tests that start the real
# binaries. Starts what it needs (PostgreSQL, the Python client's venv).
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy/scripts/setup.sh test
# shellcheck disable=SC1091
. .dangan/test.env
export DANGAN_TEST_DATABASE_URL

# Schemas left by interrupted storage-suite runs.
psql "$DANGAN_TEST_DATABASE_URL" -Atqc "select nspname from pg_namespace where nspname like 't\_%'" |
    while read -r s; do psql "$DANGAN_TEST_DATABASE_URL" -qc "drop schema \"$s\" cascade" >/dev/null; done

# S3 for the scan line's end-to-end test: SeaweedFS on loopback, for this run.
s3_port=8333
export DANGAN_TEST_S3_ENDPOINT=http://127.0.0.1:$s3_port DANGAN_TEST_S3_BUCKET=dangan-e2e
export DANGAN_TEST_S3_KEY=dangan-test DANGAN_TEST_S3_SECRET=dangan-test-secret
s3_up() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$s3_port/")" != 000 ]; }
if ! s3_up; then
    rm -rf .dangan/seaweed && mkdir -p .dangan/seaweed
    AWS_ACCESS_KEY_ID=$DANGAN_TEST_S3_KEY AWS_SECRET_ACCESS_KEY=$DANGAN_TEST_S3_SECRET \
        .venv/bin/weed mini -dir=.dangan/seaweed -ip=127.0.0.1 -ip.bind=127.0.0.1 -bucket=$DANGAN_TEST_S3_BUCKET \
        -webdav=false -s3.port=$s3_port -s3.port.iceberg=0 -s3.port.lance=0 > .dangan/seaweed.log 2>&1 &
    weed_pid=$!
    trap 'kill $weed_pid 2>/dev/null; wait $weed_pid 2>/dev/null' EXIT
    for _ in $(seq 1 60); do s3_up && break; sleep 0.5; done
    s3_up || { echo "SeaweedFS did not start; see .dangan/seaweed.log" >&2; exit 1; }
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo build --workspace --bins
# One OpenMP thread per tesseract engine (see DEPENDENCIES: several engines
# otherwise fight over the cores).
export OMP_THREAD_LIMIT=1
# The PP-OCR files, wherever a test's working directory is.
export DANGAN_OCR_DIR=$PWD/.dangan/ocr DANGAN_INGEST__OCR__MODELS_DIR=$PWD/.dangan/ocr
cargo test --workspace

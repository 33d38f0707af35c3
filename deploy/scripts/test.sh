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

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo build --workspace --bins
cargo test --workspace

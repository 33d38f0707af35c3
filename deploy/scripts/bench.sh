#!/usr/bin/env bash
# `make bench`: loads 1,000,000 dossiers into PostgreSQL and into SQLite and
# measures gRPC calls with 32 concurrent clients against the health call.
# Arguments go to the benchmark, e.g. `make bench ARGS="--dossiers 100000 --reuse"`.
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy/scripts/setup.sh test
# shellcheck disable=SC1091
. .dangan/test.env
# The local Unix socket: sqlx 0.9.0 does not set TCP_NODELAY (sqlx issue #4335).
export DANGAN_BENCH_DATABASE_URL=${DANGAN_BENCH_DATABASE_URL:-postgres://postgres@localhost/test?host=/var/run/postgresql}
cargo bench -p dangan-archive --bench grpc_load -- "$@"
echo "results: target/bench-results.md (copy them into BENCHMARKS.md with the command above)"

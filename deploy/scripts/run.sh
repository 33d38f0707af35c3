#!/usr/bin/env bash
# `make run`: build, start dangan (the archive service with its scan worker)
# on embedded defaults (SQLite, keys and page images in .dangan/data), load
# the demo data set, upload generated sample scans and show what they became.
# DETACH=1 leaves the server running in the background (`make stop` stops it).
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy/scripts/setup.sh run
cargo build --workspace --bins

data=${DANGAN_DATA_DIR:-.dangan/data}
listen=${DANGAN_LISTEN:-127.0.0.1:50051}
mkdir -p .dangan
ctl=target/debug/danganctl
export DANGAN_SERVER="http://$listen"

if [ -f .dangan/server.pid ] && kill -0 "$(cat .dangan/server.pid)" 2>/dev/null; then
    echo "dangan is already running (pid $(cat .dangan/server.pid)); \`make stop\` stops it"
    pid=$(cat .dangan/server.pid)
else
    : > .dangan/server.out
    target/debug/dangan --listen "$listen" --data-dir "$data" > .dangan/server.out 2> .dangan/server.log &
    pid=$!
    echo "$pid" > .dangan/server.pid
    for _ in $(seq 1 120); do
        grep -q 'listening on' .dangan/server.out && break
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "dangan failed to start:" >&2; tail -20 .dangan/server.log >&2; exit 1
        fi
        sleep 0.25
    done
fi
export DANGAN_TOKEN
DANGAN_TOKEN=$(cat "$data/admin.token")

$ctl demo load
echo; echo "Sites:"; $ctl site list
echo; echo "Dossiers of site CPM-AVIC:"; $ctl dossier search --site AVIC --all
echo; echo "One dossier:"; $ctl dossier get CPM-AVIC-001
echo; echo "What CPM-AVIC-002 still lacks:"; $ctl dossier completeness CPM-AVIC-002
echo; echo "Search by a 2-character name:"; $ctl dossier search --name 娜娜

# Sample scans: generated forms (registration forms, handover sheets, ID
# copies, contracts; clean and mildly noisy; one multi-page TIFF).
if [ ! -f .dangan/samples/truth.json ]; then
    echo; echo "Rendering sample scans into .dangan/samples"
    target/debug/dangan-corpus --out .dangan/samples --docs 10 --levels clean,noisy --seed 7
fi
echo; echo "Uploading the sample scans to site AVIC (it creates dossiers for new units):"
$ctl scan upload .dangan/samples --site AVIC --box SAMPLE-1 --wait
echo; echo "Open review tasks:"; $ctl review list
echo; echo "Dossiers of site CPM-AVIC now:"; $ctl dossier search --site AVIC --all
echo; echo "The audit trail (every read, change and refusal, hash-chained):"
$ctl audit list --dossier CPM-AVIC-001 --limit 8
$ctl audit verify

cat <<MSG

dangan is running on $listen (data in $data, log in .dangan/server.log).
In another shell:
  export DANGAN_SERVER=http://$listen DANGAN_TOKEN=\$(cat $data/admin.token)
  $ctl dossier search --site AVIC --incomplete
  $ctl dossier history CPM-AVIC-003
  $ctl principal create zhao.min --role staff --site AVIC --department 客服部 && $ctl token issue zhao.min
  $ctl dossier get CPM-AVIC-001 --reveal --json
  $ctl scan upload DIR --site AVIC --wait       # your own scans (PNG, JPEG, TIFF)
  $ctl review list
  $ctl --help
Roles, approvals, lending and the audit trail: docs/access.md.
MSG

if [ "${DETACH:-0}" = 1 ]; then
    echo "Left running in the background; \`make stop\` stops it."
    exit 0
fi
echo "Ctrl-C stops it."
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f .dangan/server.pid; exit 0' INT TERM
wait "$pid" || true
rm -f .dangan/server.pid

#!/usr/bin/env bash
# `make stop`: stops a server `make run DETACH=1` left running.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -f .dangan/server.pid ] && kill -0 "$(cat .dangan/server.pid)" 2>/dev/null; then
    kill -TERM "$(cat .dangan/server.pid)"
    echo "stopped dangan"
else
    echo "dangan is not running"
fi
rm -f .dangan/server.pid

#!/usr/bin/env bash
# The demo: installs what is missing, builds, starts the local origin with a
# scheduled synthetic broadcast on input "demo", and prints the watch URL.
# Ctrl-C stops it (and every ffmpeg it started).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
PORT="${PORT:-8080}"
echo
echo "  Watch page:  http://127.0.0.1:${PORT}/?input=demo&recordings=/api/inputs/demo/recordings"
echo "  (idle ~10 s, live ~2 min, ended, again; RTMP ingest on rtmp://127.0.0.1:1935/live/<key>)"
echo
exec target/debug/server --port "$PORT" --data-dir .data --dist dist --demo

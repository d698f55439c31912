#!/usr/bin/env bash
# The demo: installs what is missing, builds, starts the local Cloudflare
# stand-in with a scheduled synthetic broadcast on input "demo" and the
# backend in front of it (as a deployment runs it in front of Cloudflare),
# and prints the addresses. Ctrl-C stops both (and every ffmpeg started).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
PORT="${PORT:-8080}"
CF_PORT="${CF_PORT:-$((PORT + 1))}"
# The stand-in's account API token, new each run, shared through the
# environment only (a flag would show in `ps`).
CF_API_TOKEN="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
export CF_API_TOKEN
# The demo's own Jitsi app (as Prosody's app_id/app_secret), new each run:
# the backend verifies moderator tokens signed with it; only the backend
# and the token minting below see it.
JITSI_APP_ID="demo-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
JITSI_APP_SECRET="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
ROOM="${ROOM:-demo-room}"

pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT INT TERM

localcf/target/debug/localcf --port "$CF_PORT" --data-dir .data --dist dist --demo >/dev/null &
pids+=($!)
JITSI_APP_ID="$JITSI_APP_ID" JITSI_APP_SECRET="$JITSI_APP_SECRET" \
target/debug/backend --port "$PORT" --dist dist --data-dir .data/backend --cf-account local \
  --cf-api-base "http://127.0.0.1:${CF_PORT}/client/v4" \
  --delivery-base "http://127.0.0.1:${CF_PORT}" >/dev/null &
pids+=($!)
# Both print READY when listening; wait for their ports instead of parsing.
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/${PORT}") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/${CF_PORT}") 2>/dev/null && break
  sleep 0.1
done
# A moderator's token for the demo room, as Jitsi would hand it to a page.
TOKEN="$(JITSI_APP_ID="$JITSI_APP_ID" JITSI_APP_SECRET="$JITSI_APP_SECRET" \
  target/debug/backend mint-token --room "$ROOM" --ttl 12h)"
echo
echo "  Watch page:  http://127.0.0.1:${PORT}/?input=demo&base=http://127.0.0.1:${CF_PORT}&recordings=/api/inputs/demo/recordings"
echo "  Backend:     http://127.0.0.1:${PORT}"
echo "  Moderator page: http://127.0.0.1:${PORT}/moderator?room=${ROOM}&jwt=${TOKEN}"
echo "  (the moderator page gets room ${ROOM}'s live input from the backend and shows the one string"
echo "   for Jitsi's \"Start live stream\"; publish to it, e.g. ffmpeg ... -f flv <that string>)"
echo "  (local Cloudflare stand-in on http://127.0.0.1:${CF_PORT}: idle ~10 s, live ~2 min, ended, again;"
echo "   RTMP ingest on rtmp://127.0.0.1:1935/live/<key>)"
echo
wait -n "${pids[@]}"

#!/usr/bin/env bash
# Load benchmark of the recordings endpoint (a script, not a test):
#
#   1. cached requests per second of GET /api/inputs/<input>/recordings with
#      wrk (200s, and 304s when the client sends If-None-Match);
#   2. simulated viewers: each wrk connection is one viewer polling the
#      endpoint every ~INTERVAL s (uniform 0..2×INTERVAL, so the phases
#      spread) for DURATION s; prints the upstream (account API) calls the
#      server made meanwhile, read from GET /control/stats.
#
#   bench/recordings-wrk.sh [--viewers 10000] [--interval 15] [--duration 300]
#                           [--ttl 15] [--rps-seconds 10] [--debug]
#
# The server runs in local mode: its account API client talks to its own
# stand-in over loopback, through the same code that talks to Cloudflare.
# Everything stays on 127.0.0.1 and stops by itself. Needs Debian `wrk`,
# `curl`, `python3` and `ffmpeg` (scripts/setup.sh installs them). Builds
# the server optimised (the workspace's release profile is tuned for the
# wasm's size, so opt-level/lto are overridden here); --debug uses
# target/debug/server instead. Quick run: --viewers 1000 --duration 30.
set -euo pipefail
cd "$(dirname "$0")/.."

VIEWERS=10000
INTERVAL=15
DURATION=300
TTL=15
RPS_SECONDS=10
DEBUG=0
while [ $# -gt 0 ]; do
  case "$1" in
    --viewers) VIEWERS="$2"; shift 2 ;;
    --interval) INTERVAL="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --ttl) TTL="$2"; shift 2 ;;
    --rps-seconds) RPS_SECONDS="$2"; shift 2 ;;
    --debug) DEBUG=1; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
say() { printf '\033[1m[bench]\033[0m %s\n' "$*" >&2; }
for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool (scripts/setup.sh)" >&2; exit 1; }
done

if [ "$DEBUG" = 1 ]; then
  say "cargo build -p server (debug)"
  cargo build -p server --quiet
  BIN=target/debug/server
  BUILD=debug
else
  say "cargo build --release -p server (opt-level 3, no lto; a few minutes the first time)"
  CARGO_PROFILE_RELEASE_OPT_LEVEL=3 CARGO_PROFILE_RELEASE_LTO=false \
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_PANIC=unwind \
    cargo build --release -p server --quiet
  BIN=target/release/server
  BUILD="release (opt-level 3)"
fi

# 10,000 viewers are 10,000 sockets on each side.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge $((VIEWERS + 1000)) ]; then
  ulimit -n $((VIEWERS + 1000)) 2>/dev/null || true
fi
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((VIEWERS + 100)) ]; then
  echo "open files limit $(ulimit -n) is too low for $VIEWERS viewers" >&2; exit 1
fi

WORK=$(mktemp -d /tmp/recordings-bench.XXXXXX)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/dist" && echo '<!doctype html><title>bench</title>' >"$WORK/dist/index.html"
say "starting $BIN (ttl ${TTL}s)"
"$BIN" --host 127.0.0.1 --port 0 --no-rtmp --data-dir "$WORK/data" --dist "$WORK/dist" \
  --video-size 320x180 --preset ultrafast --fps 15 --segment-seconds 1 \
  --recording-ready-seconds 0 --recordings-ttl-seconds "$TTL" \
  >"$WORK/stdout" 2>"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do
  grep -q '^READY' "$WORK/stdout" 2>/dev/null && break
  sleep 0.1
done
O=$(sed -n 's/^READY http=\([^ ]*\) .*/\1/p' "$WORK/stdout")
[ -n "$O" ] || { echo "server did not start:" >&2; cat "$WORK/server.log" >&2; exit 1; }
URL="$O/api/inputs/bench/recordings"

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# Two short broadcasts, so the list holds two real recordings.
curl -fsS -X POST "$O/control/inputs" -d '{"uid":"bench","name":"Bench room"}' >/dev/null
for n in 1 2; do
  say "broadcast $n"
  curl -fsS -X POST "$O/control/inputs/bench/start" >/dev/null
  for _ in $(seq 1 200); do
    [ "$(curl -fsS "$O/bench/lifecycle" | json 'd["live"]')" = True ] && break
    sleep 0.1
  done
  sleep 2
  curl -fsS -X POST "$O/control/inputs/bench/stop" >/dev/null
done
say "waiting for both recordings to be listed"
for _ in $(seq 1 $((TTL * 3 * 10 + 50))); do
  [ "$(curl -fsS "$URL" | json 'len(d["recordings"])')" = 2 ] && break
  sleep 0.1
done
BODY=$(curl -fsS "$URL")
[ "$(echo "$BODY" | json 'len(d["recordings"])')" = 2 ] || { echo "recordings not listed: $BODY" >&2; exit 1; }
ETAG=$(curl -fsS -D - -o /dev/null "$URL" | tr -d '\r' | sed -n 's/^etag: //Ip')
BYTES=$(printf %s "$BODY" | wc -c)

say "warming up"
wrk -t2 -c16 -d2s "$URL" >/dev/null

rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p'; }
p99() { sed -n 's/^ *99% *\([0-9.]*[a-z]*\).*/\1/p'; }
say "wrk -t2 -c64 -d${RPS_SECONDS}s (200, ${BYTES}-byte body)"
wrk -t2 -c64 -d"${RPS_SECONDS}s" --latency "$URL" >"$WORK/wrk-200.txt"
say "wrk -t2 -c64 -d${RPS_SECONDS}s with If-None-Match (304)"
wrk -t2 -c64 -d"${RPS_SECONDS}s" --latency -H "If-None-Match: $ETAG" "$URL" >"$WORK/wrk-304.txt"
RPS_200=$(rps <"$WORK/wrk-200.txt"); P99_200=$(p99 <"$WORK/wrk-200.txt")
RPS_304=$(rps <"$WORK/wrk-304.txt"); P99_304=$(p99 <"$WORK/wrk-304.txt")

# ---- viewers ----------------------------------------------------------
cat >"$WORK/viewers.lua" <<EOF
-- One connection = one viewer: waits uniform(0, 2*interval) before each
-- poll, so it polls every interval on average and the phases spread.
local interval_ms = ${INTERVAL} * 1000
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("index", threads)
end
function init(args) math.randomseed(os.time() * 1000 + index) end
function delay() return math.random(0, 2 * interval_ms) end
EOF
curl -fsS -X POST "$O/control/stats/reset" >/dev/null
CPU0=$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat")
T0=$(date +%s.%N)
say "$VIEWERS viewers polling every ~${INTERVAL}s for ${DURATION}s (expect ~$((VIEWERS / INTERVAL)) req/s)"
# --timeout above the longest wait: wrk counts a connection waiting in
# delay() past its timeout as a timeout although nothing is outstanding.
wrk -t2 -c"$VIEWERS" -d"${DURATION}s" --timeout $((INTERVAL * 2 + 30))s --latency \
  -s "$WORK/viewers.lua" "$URL" >"$WORK/wrk-viewers.txt" || true
T1=$(date +%s.%N)
CPU1=$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat")
STATS=$(curl -fsS "$O/control/stats")
RSS_KB=$(awk '/^VmRSS/{print $2}' "/proc/$SERVER_PID/status")
TICKS=$(getconf CLK_TCK)

REQS=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$WORK/wrk-viewers.txt")
ERRS=$(sed -n 's/^ *Socket errors: \(.*\)/\1/p' "$WORK/wrk-viewers.txt")
NON2XX=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\)/\1/p' "$WORK/wrk-viewers.txt")
VRPS=$(rps <"$WORK/wrk-viewers.txt"); VP99=$(p99 <"$WORK/wrk-viewers.txt")
UPSTREAM=$(echo "$STATS" | json 'd["upstream"]["videos"]')
SERVED=$(echo "$STATS" | json 'd["recordings"]["requests"]')
CPU_PCT=$(python3 -c "print(round(100*($CPU1-$CPU0)/$TICKS/($T1-$T0),1))")
EXPECTED=$(python3 -c "import math; print(math.ceil($DURATION/$TTL))")

cat <<EOF

## Recordings endpoint on this machine ($(nproc) cores, server build: $BUILD, wrk and server on the same cores)

| measure | figure |
| --- | --- |
| cached 200 (${BYTES}-byte list), wrk -t2 -c64 | ${RPS_200} req/s, p99 ${P99_200} |
| cached 304 (If-None-Match), wrk -t2 -c64 | ${RPS_304} req/s, p99 ${P99_304} |
| simulated viewers | ${VIEWERS} connections, one poll each every ~${INTERVAL}s, ${DURATION}s |
| requests served | ${SERVED} (${VRPS} req/s, p99 ${VP99}) |
| errors | socket: ${ERRS:-none}; non-2xx: ${NON2XX:-0} |
| server CPU during the viewers run | ${CPU_PCT}% of one core, RSS $((RSS_KB / 1024)) MiB |
| **upstream account API calls** | **${UPSTREAM}** (TTL ${TTL}s: at most one per input per TTL ≈ ${EXPECTED}) |
EOF
say "wrk outputs: (removed with $WORK); viewers run said:"
sed -n '1,20p' "$WORK/wrk-viewers.txt" >&2

#!/usr/bin/env bash
# Load benchmark of the backend's recordings endpoint (a script, not a test):
#
#   1. cached requests per second of GET /api/inputs/<input>/recordings with
#      wrk (200s, and 304s when the client sends If-None-Match);
#   2. simulated viewers: each wrk connection is one viewer polling the
#      endpoint every ~INTERVAL s (uniform 0..2×INTERVAL, so the phases
#      spread) for DURATION s; prints the account API calls the backend made
#      meanwhile, counted on the stand-in's side (one log line per request
#      it answered), and the backend's own counters when it has /metrics.
#
#   bench/recordings-wrk.sh [--viewers 10000] [--interval 15] [--duration 300]
#                           [--ttl 15] [--rps-seconds 10] [--debug]
#
# Two processes, as the demo runs them: the local Cloudflare stand-in
# (localcf, its account API at /client/v4) and the backend in front of it,
# whose account API client talks to the stand-in over loopback through the
# same code that talks to Cloudflare. Everything stays on 127.0.0.1 and
# stops by itself. Needs Debian `wrk`, `curl`, `python3` and `ffmpeg`
# (scripts/setup.sh installs them). Builds the backend optimised (the
# workspace's release profile is tuned for the wasm's size, so
# opt-level/lto are overridden here); --debug uses target/debug/backend
# instead. The stand-in is built in debug: it answers a few calls only.
# Quick run: --viewers 1000 --duration 30.
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
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
say() { printf '\033[1m[bench]\033[0m %s\n' "$*" >&2; }
for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool (scripts/setup.sh)" >&2; exit 1; }
done

say "cargo build --manifest-path localcf/Cargo.toml (the stand-in, debug)"
cargo build --manifest-path localcf/Cargo.toml --bin localcf --quiet
CF_BIN=localcf/target/debug/localcf
if [ "$DEBUG" = 1 ]; then
  say "cargo build -p backend (debug)"
  cargo build -p backend --quiet
  BIN=target/debug/backend
  BUILD=debug
else
  # The overrides of deploy/Dockerfile: what is measured is what ships.
  say "cargo build --release -p backend (opt-level 3, thin lto; a few minutes the first time)"
  CARGO_PROFILE_RELEASE_OPT_LEVEL=3 CARGO_PROFILE_RELEASE_LTO=thin \
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_PANIC=unwind \
    cargo build --release -p backend --quiet
  BIN=target/release/backend
  BUILD="release (opt-level 3, thin lto)"
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
CF_PID=""
BACKEND_PID=""
stop_pid() {
  if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
  fi
}
cleanup() {
  stop_pid "$BACKEND_PID"
  stop_pid "$CF_PID"
  rm -rf "$WORK"
}
trap cleanup EXIT

# Waits for `READY http=<url>...` in $1 and prints the URL; $2 is the log.
ready_url() {
  for _ in $(seq 1 150); do
    grep -q '^READY' "$1" 2>/dev/null && break
    sleep 0.1
  done
  local url
  url=$(sed -n 's/^READY http=\([^ ]*\).*/\1/p' "$1")
  [ -n "$url" ] || { echo "did not start:" >&2; cat "$2" >&2; exit 1; }
  echo "$url"
}

# The token the stand-in accepts and the backend sends: new each run, in
# the environment only (a flag would show in `ps`), never printed.
CF_API_TOKEN="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
export CF_API_TOKEN

mkdir -p "$WORK/dist" && echo '<!doctype html><title>bench</title>' >"$WORK/dist/index.html"
say "starting the stand-in ($CF_BIN)"
# tower_http at debug: one log line per request answered, which is how the
# account API calls are counted.
RUST_LOG=info,tower_http=debug "$CF_BIN" --host 127.0.0.1 --port 0 --no-rtmp \
  --data-dir "$WORK/data" --dist "$WORK/dist" \
  --video-size 320x180 --preset ultrafast --fps 15 --segment-seconds 1 \
  --recording-ready-seconds 0 \
  >"$WORK/cf.stdout" 2>"$WORK/cf.log" &
CF_PID=$!
CF=$(ready_url "$WORK/cf.stdout" "$WORK/cf.log")

say "starting $BIN (ttl ${TTL}s) in front of it"
RUST_LOG=info "$BIN" --host 127.0.0.1 --port 0 --dist "$WORK/dist" --data-dir "$WORK/backend-data" \
  --cf-account local --cf-api-base "$CF/client/v4" \
  --recordings-ttl-seconds "$TTL" \
  >"$WORK/backend.stdout" 2>"$WORK/backend.log" &
BACKEND_PID=$!
B=$(ready_url "$WORK/backend.stdout" "$WORK/backend.log")
URL="$B/api/inputs/bench/recordings"

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# Account API videos requests the stand-in has answered so far.
upstream_calls() {
  grep -c 'uri=/client/v4/accounts/local/stream/live_inputs/[^/ ]*/videos .*finished processing request' \
    "$WORK/cf.log" || true
}
# A counter of the backend's /metrics, or "" when it has none.
metric() {
  curl -fsS "$B/metrics" 2>/dev/null | awk -v n="$1" '$1 == n { print $2 }' || true
}

# Two short broadcasts, so the list holds two real recordings.
curl -fsS -X POST "$CF/control/inputs" -H 'content-type: application/json' -d '{"uid":"bench","name":"Bench room"}' >/dev/null
for n in 1 2; do
  say "broadcast $n"
  curl -fsS -X POST "$CF/control/inputs/bench/start" >/dev/null
  for _ in $(seq 1 200); do
    [ "$(curl -fsS "$CF/bench/lifecycle" | json 'd["live"]')" = True ] && break
    sleep 0.1
  done
  sleep 2
  curl -fsS -X POST "$CF/control/inputs/bench/stop" >/dev/null
done
say "waiting for both recordings to be listed by the backend"
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
UP0=$(upstream_calls)
M_UP0=$(metric jlp_recordings_upstream_calls_total)
M_REQ0=$(metric jlp_recordings_requests_total)
CPU0=$(awk '{print $14 + $15}' "/proc/$BACKEND_PID/stat")
T0=$(date +%s.%N)
say "$VIEWERS viewers polling every ~${INTERVAL}s for ${DURATION}s (expect ~$((VIEWERS / INTERVAL)) req/s)"
# --timeout above the longest wait: wrk counts a connection waiting in
# delay() past its timeout as a timeout although nothing is outstanding.
wrk -t2 -c"$VIEWERS" -d"${DURATION}s" --timeout $((INTERVAL * 2 + 30))s --latency \
  -s "$WORK/viewers.lua" "$URL" >"$WORK/wrk-viewers.txt" || true
T1=$(date +%s.%N)
CPU1=$(awk '{print $14 + $15}' "/proc/$BACKEND_PID/stat")
UP1=$(upstream_calls)
M_UP1=$(metric jlp_recordings_upstream_calls_total)
M_REQ1=$(metric jlp_recordings_requests_total)
RSS_KB=$(awk '/^VmRSS/{print $2}' "/proc/$BACKEND_PID/status")
TICKS=$(getconf CLK_TCK)

REQS=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$WORK/wrk-viewers.txt")
ERRS=$(sed -n 's/^ *Socket errors: \(.*\)/\1/p' "$WORK/wrk-viewers.txt")
NON2XX=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\)/\1/p' "$WORK/wrk-viewers.txt")
VRPS=$(rps <"$WORK/wrk-viewers.txt"); VP99=$(p99 <"$WORK/wrk-viewers.txt")
UPSTREAM=$((UP1 - UP0))
CPU_PCT=$(python3 -c "print(round(100*($CPU1-$CPU0)/$TICKS/($T1-$T0),1))")
EXPECTED=$(python3 -c "import math; print(math.ceil($DURATION/$TTL))")
if [ -n "$M_UP0" ] && [ -n "$M_UP1" ] && [ -n "$M_REQ0" ] && [ -n "$M_REQ1" ]; then
  METRICS="upstream calls $((M_UP1 - M_UP0)), requests $((M_REQ1 - M_REQ0))"
else
  METRICS="no /metrics on this backend"
fi

cat <<EOF

## Recordings endpoint on this machine ($(nproc) cores, backend build: $BUILD, wrk, backend and stand-in on the same cores)

| measure | figure |
| --- | --- |
| cached 200 (${BYTES}-byte list), wrk -t2 -c64 | ${RPS_200} req/s, p99 ${P99_200} |
| cached 304 (If-None-Match), wrk -t2 -c64 | ${RPS_304} req/s, p99 ${P99_304} |
| simulated viewers | ${VIEWERS} connections, one poll each every ~${INTERVAL}s, ${DURATION}s |
| requests served | ${REQS:-?} (${VRPS} req/s, p99 ${VP99}) |
| errors | socket: ${ERRS:-none}; non-2xx: ${NON2XX:-0} |
| backend CPU during the viewers run | ${CPU_PCT}% of one core, RSS $((RSS_KB / 1024)) MiB |
| **account API calls** (answered by the stand-in) | **${UPSTREAM}** (TTL ${TTL}s: at most one per input per TTL ≈ ${EXPECTED}) |
| the backend's own counters (/metrics) | ${METRICS} |
EOF
say "wrk outputs: (removed with $WORK); viewers run said:"
sed -n '1,20p' "$WORK/wrk-viewers.txt" >&2

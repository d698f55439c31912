#!/usr/bin/env bash
# Load benchmark of POST /api/qoe (a script, not a test): simulated viewers
# each send a beacon every 30 s, open loop, at the rate of --viewers
# (20,000 viewers ≈ 667 beacons/s), against the backend on SQLite and on
# PostgreSQL (a throwaway server from Debian's package, fsync on). Prints
# accepted/s, p50/p90/p99 answer time, the backend's CPU and peak RSS, and
# what reached the database.
#
#   bench/qoe-load.sh [--viewers 20000] [--seconds 60] [--db both|sqlite|postgres]
#
# Everything stays on 127.0.0.1; the load generator (bench/qoe-load.mjs)
# runs on the same cores as the backend. The backend is built optimised
# (the workspace's release profile is tuned for the wasm's size, so
# opt-level/lto are overridden, as in bench/recordings-wrk.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

VIEWERS=20000
SECONDS_=60
DB=both
while [ $# -gt 0 ]; do
  case "$1" in
    --viewers) VIEWERS="$2"; shift 2 ;;
    --seconds) SECONDS_="$2"; shift 2 ;;
    --db) DB="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
say() { printf '\033[1m[bench]\033[0m %s\n' "$*" >&2; }

if [ "$DB" = both ]; then
  "$0" --viewers "$VIEWERS" --seconds "$SECONDS_" --db sqlite
  PG_FSYNC=1 scripts/pg-test.sh "$0" --viewers "$VIEWERS" --seconds "$SECONDS_" --db postgres
  exit 0
fi

if [ -z "${QOE_BENCH_BUILT:-}" ]; then
  say "cargo build --release -p backend (opt-level 3, no lto)"
  CARGO_PROFILE_RELEASE_OPT_LEVEL=3 CARGO_PROFILE_RELEASE_LTO=false \
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_PANIC=unwind \
    cargo build --release -p backend --quiet
fi
BIN=target/release/backend

WORK=$(mktemp -d /tmp/qoe-bench.XXXXXX)
PID=""
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

case "$DB" in
  sqlite) unset DATABASE_URL; LABEL="SQLite (WAL, synchronous=NORMAL)" ;;
  postgres)
    [ -n "${DATABASE_URL:-}" ] || { echo "--db postgres needs DATABASE_URL (scripts/pg-test.sh sets it)" >&2; exit 1; }
    LABEL="PostgreSQL $(psql "$DATABASE_URL" -Atc 'show server_version' 2>/dev/null || echo) (fsync $(psql "$DATABASE_URL" -Atc 'show fsync' 2>/dev/null || echo ?))" ;;
  *) echo "--db sqlite|postgres|both" >&2; exit 2 ;;
esac

mkdir -p "$WORK/dist" && echo '<!doctype html><title>bench</title>' >"$WORK/dist/index.html"
# The account API is never called: no recordings are asked for, and the
# input check (a recordings-cache lookup per beacon) is off, as the
# simulated inputs do not exist in any account.
"$BIN" --host 127.0.0.1 --port 0 --dist "$WORK/dist" --data-dir "$WORK/data" \
  --cf-account local --cf-api-token bench --cf-api-base http://127.0.0.1:9/client/v4 \
  --qoe-client-ip-header x-forwarded-for --qoe-check-inputs false \
  >"$WORK/stdout" 2>"$WORK/backend.log" &
PID=$!
for _ in $(seq 1 100); do
  grep -q '^READY' "$WORK/stdout" 2>/dev/null && break
  sleep 0.1
done
O=$(sed -n 's/^READY http=\([^ ]*\).*/\1/p' "$WORK/stdout")
[ -n "$O" ] || { echo "backend did not start:" >&2; cat "$WORK/backend.log" >&2; exit 1; }

say "$LABEL: $VIEWERS viewers, one beacon each every 30 s, for ${SECONDS_}s"
RESULT=$(node bench/qoe-load.mjs --url "$O" --viewers "$VIEWERS" --seconds "$SECONDS_" --pid "$PID")
metric() { curl -fsS "$O/metrics" | awk -v s="$1" '$1 == s {print $2}'; }
ACCEPTED=$(metric jlp_beacons_accepted_total)
VIEWS=$(metric jlp_views_total)
STORE_FAIL=$(metric jlp_qoe_store_failures_total)
# A moment for the last flush (every 10 s), then the stored views.
sleep 11
STORED=""
if [ "$DB" = postgres ]; then
  STORED=$(psql "$DATABASE_URL" -Atc "select sum(views) from qoe_minute where input_uid like 'bench-input-%'")
fi

# Headroom: as many beacons as wrk can send (closed loop, 64 connections,
# each request a new page from one of 60,000 addresses) for 10 s.
cat >"$WORK/beacon.lua" <<'LUA'
local n = 0
function init(args) math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000) end
function request()
  n = n + 1
  local page = string.format("%08x%08x", math.random(0, 0x7fffffff), n)
  local a = math.random(0, 59999)
  local body = '{"v":1,"page":"' .. page .. '","browser":"firefox","views":[{"input":"bench-input-' ..
    (n % 20) .. '","video":"bench-video-' .. (n % 20) ..
    '","kind":"live","engine":"hlsjs","start":false,"watch_ms":30000,"latency_ms":4000}]}'
  return wrk.format("POST", "/api/qoe", {
    ["content-type"] = "text/plain",
    ["x-forwarded-for"] = string.format("10.%d.%d.%d", a // 65536, (a // 256) % 256, a % 256),
  }, body)
end
LUA
SAT=""
if command -v wrk >/dev/null; then
  say "headroom: wrk -t2 -c64 -d10s"
  CPU0=$(awk '{print $14 + $15}' "/proc/$PID/stat")
  wrk -t2 -c64 -d10s --latency -s "$WORK/beacon.lua" "$O" >"$WORK/wrk.txt" 2>&1 || true
  CPU1=$(awk '{print $14 + $15}' "/proc/$PID/stat")
  RPS=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$WORK/wrk.txt")
  P99=$(sed -n 's/^ *99% *\([0-9.]*[a-z]*\).*/\1/p' "$WORK/wrk.txt")
  P50=$(sed -n 's/^ *50% *\([0-9.]*[a-z]*\).*/\1/p' "$WORK/wrk.txt")
  NON2XX=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\)/\1/p' "$WORK/wrk.txt")
  SAT="${RPS} beacons/s (p50 ${P50}, p99 ${P99}; non-2xx ${NON2XX:-0}); backend CPU $(( (CPU1 - CPU0) * 100 / $(getconf CLK_TCK) / 10 ))% of one core"
fi
kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""
if [ "$DB" = sqlite ] && command -v sqlite3 >/dev/null; then
  STORED=$(sqlite3 "$WORK/data/qoe.sqlite" "select sum(views) from qoe_minute")
fi

j() { node -e "const d=JSON.parse(process.argv[1]); console.log($1)" "$RESULT"; }
cat <<EOT

## POST /api/qoe on $LABEL ($(nproc) cores shared with the load generator)

| measure | figure |
| --- | --- |
| simulated viewers | $VIEWERS (one beacon / 30 s each, $(j 'd.seconds') s) |
| beacons sent | $(j 'd.sent') ($(j 'd.sentPerSecond')/s) |
| accepted (204) | $(j 'd.acceptedPerSecond')/s; statuses $(j 'JSON.stringify(d.statuses)'), errors $(j 'd.errors') |
| answer time | p50 $(j 'd.p50ms') ms, p90 $(j 'd.p90ms') ms, p99 $(j 'd.p99ms') ms, max $(j 'd.maxms') ms |
| backend CPU | $(j 'd.cpuPercentOfOneCore')% of one core |
| backend peak RSS | $(j 'd.rssMaxMiB') MiB |
| accepted by the backend / views counted | $ACCEPTED / $VIEWS |
| views in the database | ${STORED:-n/a (no sqlite3 CLI)}; failed flushes: $STORE_FAIL |
| headroom (wrk -t2 -c64, 10 s, closed loop) | ${SAT:-n/a (no wrk)} |
EOT

// Load generator for POST /api/qoe (a benchmark, not a test): simulated
// viewers each send one beacon every --interval seconds (the player's
// cadence), phases spread uniformly, open loop (a slow answer does not slow
// the sending, so latencies are measured at the target rate, not below it).
// Samples the backend's CPU and RSS from /proc when given its --pid.
// Prints one JSON line of figures.
//
//   node bench/qoe-load.mjs --url http://127.0.0.1:8080 [--viewers 20000]
//     [--interval 30] [--seconds 60] [--inputs 20] [--addresses 5000] [--pid N]
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => {
    if (a.startsWith('--')) pairs.push([a.slice(2), all[i + 1]]);
    return pairs;
  }, []),
);
const url = new URL('/api/qoe', args.url ?? 'http://127.0.0.1:8080');
const viewers = Number(args.viewers ?? 20000);
const intervalMs = Number(args.interval ?? 30) * 1000;
const seconds = Number(args.seconds ?? 60);
const inputs = Number(args.inputs ?? 20);
const addresses = Number(args.addresses ?? 5000);
const pid = args.pid ? Number(args.pid) : null;

// Viewers behind `addresses` client addresses (the backend is started with
// --qoe-client-ip-header x-forwarded-for), several per address as behind NAT.
const people = Array.from({ length: viewers }, (_, i) => {
  const a = i % addresses;
  return {
    page: randomBytes(8).toString('hex'),
    input: `bench-input-${i % inputs}`,
    video: `bench-video-${i % inputs}`,
    ip: `10.${(a >> 16) & 255}.${(a >> 8) & 255}.${a & 255}`,
    phase: Math.random() * intervalMs,
    sent: 0,
  };
});
people.sort((a, b) => a.phase - b.phase);

function body(p) {
  const view = {
    input: p.input,
    video: p.video,
    kind: 'live',
    engine: p.page.charCodeAt(0) % 2 ? 'hlsjs' : 'native',
    start: p.sent === 0,
    watch_ms: p.sent === 0 ? 200 : 30000,
    rebuffers: 0,
    rebuffer_ms: 0,
    up: 0,
    down: 0,
    latency_ms: 3000 + Math.floor(Math.random() * 4000),
  };
  if (p.sent === 0) view.startup_ms = 400 + Math.floor(Math.random() * 2500);
  else if (Math.random() < 0.03) Object.assign(view, { rebuffers: 1, rebuffer_ms: 1500 });
  if (Math.random() < 0.05) view.up = 1;
  return JSON.stringify({ v: 1, page: p.page, browser: 'chrome', end: false, views: [view] });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const latencies = [];
const statuses = {};
let inFlight = 0;
let maxInFlight = 0;
let errors = 0;

function send(p) {
  const data = body(p);
  p.sent += 1;
  const t0 = process.hrtime.bigint();
  inFlight += 1;
  maxInFlight = Math.max(maxInFlight, inFlight);
  const req = http.request(
    url,
    {
      method: 'POST',
      agent,
      headers: {
        'content-type': 'text/plain',
        'content-length': Buffer.byteLength(data),
        'x-forwarded-for': p.ip,
      },
    },
    (res) => {
      res.resume();
      res.on('end', () => {
        inFlight -= 1;
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
      });
    },
  );
  req.on('error', () => {
    inFlight -= 1;
    errors += 1;
  });
  req.end(data);
}

function cpuTicks() {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
}
function rssKb() {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

const CLK_TCK = 100;
const start = performance.now();
const cpu0 = pid ? cpuTicks() : 0;
let rssMax = pid ? rssKb() : 0;
const rssTimer = pid ? setInterval(() => { rssMax = Math.max(rssMax, rssKb()); }, 1000) : null;

// Round k sends to every viewer whose phase has passed: one timer, 5 ms steps.
let round = 0;
let next = 0;
await new Promise((resolve) => {
  const timer = setInterval(() => {
    const t = performance.now() - start;
    if (t >= seconds * 1000) {
      clearInterval(timer);
      resolve();
      return;
    }
    while (true) {
      if (next === people.length) {
        next = 0;
        round += 1;
      }
      const p = people[next];
      if (p.phase + round * intervalMs > t) break;
      send(p);
      next += 1;
    }
  }, 5);
});
const elapsed = (performance.now() - start) / 1000;
const cpu1 = pid ? cpuTicks() : 0;
// Let the last answers arrive.
for (let i = 0; i < 100 && inFlight > 0; i += 1) await new Promise((r) => setTimeout(r, 50));
if (rssTimer) clearInterval(rssTimer);
agent.destroy();

latencies.sort((a, b) => a - b);
const q = (x) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(x * latencies.length))] : null);
const sent = latencies.length + errors + inFlight;
const round2 = (x) => (x === null ? null : Math.round(x * 100) / 100);
console.log(
  JSON.stringify({
    viewers,
    seconds: round2(elapsed),
    sent,
    sentPerSecond: round2(sent / elapsed),
    acceptedPerSecond: round2((statuses[204] ?? 0) / elapsed),
    statuses,
    errors,
    unanswered: inFlight,
    maxInFlight,
    p50ms: round2(q(0.5)),
    p90ms: round2(q(0.9)),
    p99ms: round2(q(0.99)),
    maxms: round2(latencies.at(-1) ?? null),
    cpuPercentOfOneCore: pid ? round2((100 * (cpu1 - cpu0)) / CLK_TCK / elapsed) : null,
    rssMaxMiB: pid ? round2(rssMax / 1024) : null,
  }),
);

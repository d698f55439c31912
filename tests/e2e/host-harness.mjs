// Harness additions for specs of host pages that embed the player (the
// React and Angular examples): a built example served by the local origin
// as its --dist (so the app and the delivery endpoints share one origin), and
// a page object that reads the player inside a custom element's shadow root
// or a mount() target, and the host page's own event panel.
//
// Built on harness.mjs: HostPage is its PlayerPage (opening, request and
// console logs, waits) reading the host's panel beside the player.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before } from 'node:test';
import { useEnv, waitFor, classify, sleep, HIDE_NATIVE_HLS, OUTPUT, REPO, PlayerPage } from './harness.mjs';
import { PROBE_SCRIPT } from './embed-probe.mjs';

export { REPO, OUTPUT, sleep, waitFor };

/**
 * useEnv() with the local origin serving `dist` (an example's build) at `/`.
 * `build` (a script path, relative to the repo) runs first, in a before hook,
 * unless `env` names a prebuilt dist in the environment (e.g. E2E_REACT_DIST).
 */
export function useHostEnv({ name, dist, build, distEnv, buildTimeout = 300_000, autoplay = true, server = {} }) {
  const override = distEnv && process.env[distEnv];
  const distDir = override || path.resolve(REPO, dist);
  if (build && !override) {
    before(() => {
      const t0 = Date.now();
      const r = spawnSync(path.resolve(REPO, build), [], { cwd: REPO, encoding: 'utf8', timeout: buildTimeout, stdio: ['ignore', 'pipe', 'pipe'] });
      if (r.status !== 0) {
        throw new Error(`${build} failed (${r.error ? r.error.message : `exit ${r.status}`}):\n${(r.stdout || '').slice(-2000)}\n${(r.stderr || '').slice(-4000)}`);
      }
      if (!process.env.E2E_QUIET) console.error(`[e2e] ${build}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }, { timeout: buildTimeout + 10_000 });
  }
  const env = useEnv({ name, autoplay, server: { ...server, dist: distDir } });
  env.dist = distDir;
  env.openHost = async (opts) => {
    const p = await HostPage.open(env, { ...opts, name: `${name}-${opts.name || 'host'}` });
    env.pages.push(p);
    return p;
  };
  return env;
}

// One CDP round trip: the player (inside <jitsi-live-player>'s shadow root,
// or in the light DOM for mount()), and the host page around it.
const HOST_SNAPSHOT = `(() => {
  const host = document.querySelector('jitsi-live-player');
  const root = (host && host.shadowRoot && host.shadowRoot.querySelector('.jlp')) || document.querySelector('.jlp');
  const q = (sel) => (root ? root.querySelector(sel) : null);
  const video = q('video');
  const badge = q('.jlp-badge');
  const text = (el) => (el ? el.textContent.trim() : null);
  const facts = {};
  for (const dd of document.querySelectorAll('[data-fact]')) facts[dd.dataset.fact] = dd.textContent.trim();
  const counts = {};
  for (const li of document.querySelectorAll('.events-counts li[data-type]')) counts[li.dataset.type] = Number(li.dataset.count);
  return {
    t: Date.now(),
    where: host ? (host.shadowRoot && root && host.shadowRoot.contains(root) ? 'shadow' : 'element') : root ? 'light' : null,
    hostElements: document.querySelectorAll('jitsi-live-player').length,
    state: root ? root.getAttribute('data-player-state') : null,
    message: text(q('[data-message]')),
    status: text(q('[aria-live]')),
    viewers: (() => { const v = q('[data-viewers]'); return v && !v.hidden ? v.textContent.trim() : null; })(),
    badgeVisible: !!(badge && badge.checkVisibility && badge.checkVisibility()),
    video: video ? {
      currentTime: video.currentTime, paused: video.paused, muted: video.muted, readyState: video.readyState,
      src: video.getAttribute('src'), currentSrc: video.currentSrc, width: video.videoWidth,
      engine: /^blob:/.test(video.currentSrc) ? 'mse' : (video.currentSrc ? 'native' : null),
    } : null,
    events: [...document.querySelectorAll('.event-log li')].map((li) => ({
      type: li.dataset.type,
      detail: (li.querySelector('.event-detail') || {}).textContent,
    })),
    counts,
    facts,
    theme: (document.querySelector('[data-theme]') || {}).dataset?.theme || null,
    toggle: text(document.getElementById('toggle-player')),
  };
})()`;

/** Where the host shows the player: the element's shadow root, or the light DOM for mount(). */
export const HOST_ROOT = `(document.querySelector('jitsi-live-player')?.shadowRoot ?? document)`;

export class HostPage extends PlayerPage {
  // Opens `/?<query>` on the env's origin. `engine: 'hlsjs'` hides native HLS
  // from the page (harness.mjs HIDE_NATIVE_HLS); `probe` installs the leak
  // probe (embed-probe.mjs) before any page script. `requests` holds every
  // request of the page ({ url, type, t, status, tEnd, failed }).
  static async open(env, { query = {}, name = 'host', engine = 'auto', viewport = { width: 1280, height: 800 }, probe = true, context = {} } = {}) {
    const initScripts = [...(engine === 'hlsjs' ? [HIDE_NATIVE_HLS] : []), ...(probe ? [PROBE_SCRIPT] : [])];
    return super.open(env.browser, env.server.url, {
      query, name, viewport, context, initScripts, root: HOST_ROOT, stateLog: false, waitUntil: 'load',
    });
  }

  snapshot() { return this.peek(HOST_SNAPSHOT); }

  /** Delivery requests for uid `id` (optionally of one kind: lifecycle, manifest, playlist, segment, ...). */
  requestsOf(id, kind = null, since = 0) {
    return this.requests.filter((r) => r.t >= since && classify(r.url, id) && (!kind || classify(r.url, id) === kind));
  }

  /** Requests sent and neither answered nor failed. */
  inFlight() { return this.requests.filter((r) => r.status === null && r.failed === null); }

  consoleErrors() {
    return [...this.console.filter((c) => c.type === 'error').map((c) => c.text), ...this.pageErrors.map((e) => `pageerror: ${e.text}`)];
  }

  async screenshot(file, opts = {}) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await this.page.screenshot({ path: file, ...opts });
    return file;
  }

  async describe() {
    const lines = [`page ${this.name}: ${this.url}`];
    try {
      const s = await this.snapshot();
      const { events, ...rest } = s;
      lines.push(`snapshot: ${JSON.stringify(rest)}`);
      lines.push(`events (newest first): ${events.slice(0, 12).map((e) => `${e.type} ${e.detail}`).join(' | ')}`);
    } catch (e) {
      lines.push(`snapshot failed: ${e.message}`);
    }
    const t0 = this.requests[0] ? this.requests[0].t : Date.now();
    lines.push(`requests (last 25 of ${this.requests.length}): ${this.requests.slice(-25).map((r) => `${new URL(r.url).pathname}@+${((r.t - t0) / 1000).toFixed(1)}s=${r.status ?? r.failed ?? '…'}`).join(' ')}`);
    const errs = this.consoleErrors().slice(-10);
    if (errs.length) lines.push(`console errors: ${errs.join(' | ').slice(0, 1500)}`);
    try {
      const shot = path.join(OUTPUT, `${this.name}-${Date.now()}.png`);
      await this.screenshot(shot, { timeout: 5000 });
      lines.push(`screenshot: ${path.relative(REPO, shot)}`);
    } catch {}
    return lines.join('\n');
  }

  // The host's event panel shows an event of `type` whose detail satisfies `pred` (parsed JSON).
  waitForEvent(type, pred = () => true, { timeout = 15_000 } = {}) {
    return this.waitUntil((s) => s.events.some((e) => {
      if (e.type !== type) return false;
      try { return pred(JSON.parse(e.detail)); } catch { return false; }
    }), { timeout, what: `a "${type}" event in the host's panel` });
  }
}

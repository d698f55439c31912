// Missing or invalid configuration: a message that says what to pass, never
// a blank page or a panic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useEnv, assertNoPanic, sleep } from './harness.mjs';

const env = useEnv({ name: 'bad-config' });

// `says`: what the message must name, so the viewer knows what to pass.
const CASES = [
  { name: 'no-query', query: '', says: [/\binput\b/i, /\bvideo\b/i] },
  { name: 'bad-input', query: 'input=bad$$', says: [/\binput\b/i] },
  { name: 'bad-video', query: 'video=%3Cscript%3E', says: [/\bvideo\b/i] },
];

for (const c of CASES) {
  test(`bad config "/?${c.query}" → message saying what to pass`, { timeout: 30_000 }, async () => {
    const p = await env.open({ query: c.query, name: c.name });
    const s = await p.waitUntil((x) => x.rootPresent && x.messageVisible && x.state === 'error',
      { timeout: 10_000, what: 'an error state with a message' });
    for (const re of c.says) assert.match(s.message, re, `the message says what to pass: "${s.message}"`);
    await sleep(1500); // a late panic would show up here
    const after = await p.snapshot();
    assert.equal(after.state, 'error', 'stays in the error state');
    assert.equal(p.requestsOf('lifecycle').length + p.requestsOf('manifest').length, 0, 'nothing is fetched for a bad config');
    assert.equal(p.requests.filter((r) => r.type !== 'document' && /bad|%3Cscript|<script/i.test(r.url)).length, 0, 'no request carries the bad id');
    assertNoPanic(assert, p);
    assert.deepEqual(p.pageErrors.map((e) => e.text), [], 'no uncaught page errors');
  });
}

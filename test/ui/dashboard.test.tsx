// The dashboard through ink-testing-library: what the frames show, and what keys do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import { Dashboard } from '../../src/ui/dashboard.js';
import type { ClusterSnapshot } from '../../src/ui/snapshot.js';
import { hex, regionRow, snapshot, storeRow } from './fixtures.js';

async function waitFor(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Polls answer the snapshots in turn, then the last one again until more are pushed. */
function source(...snaps: (ClusterSnapshot | Error)[]) {
  let i = 0;
  const poll = async () => {
    const s = snaps[Math.min(i++, snaps.length - 1)];
    if (s instanceof Error) throw s;
    return s;
  };
  return { poll, polls: () => i, push: (s: ClusterSnapshot | Error) => snaps.push(s) };
}

const SIZE = { width: 140, height: 30 };

function start(...snaps: (ClusterSnapshot | Error)[]) {
  const src = source(...snaps);
  const app = render(<Dashboard poll={src.poll} intervalMs={20} size={SIZE} />);
  const frame = () => app.lastFrame() ?? '';
  const press = async (keys: string, expect: string | RegExp | ((f: string) => boolean)) => {
    app.stdin.write(keys);
    await waitFor(`${JSON.stringify(keys)} -> ${expect}\n${frame()}`, () =>
      typeof expect === 'string'
        ? frame().includes(expect)
        : expect instanceof RegExp
          ? expect.test(frame())
          : expect(frame()),
    );
  };
  return { app, frame, press, src };
}

const lines = (f: string) => f.split('\n');
const rowOf = (f: string, re: RegExp) => lines(f).find((l) => re.test(l)) ?? '';

test('the stores view: header totals, one row per store, and the keys in the footer', async (t) => {
  const { app, frame } = start(snapshot());
  t.after(() => app.unmount());
  await waitFor('first frame', () => frame().includes('127.0.0.1:20161'));
  const f = frame();
  assert.match(f, /PD 127\.0\.0\.1:2379 {2}cluster 7 {2}up 1m05s/);
  assert.match(f, /stores 3 up \/ 0 disconnected \/ 0 down/);
  assert.match(f, /regions 2 {2}no leader 0 {2}under-replicated 0/);
  assert.match(f, /tso 12\/s {2}reads 30\/s {2}writes 15\/s {2}p99 2\.50ms/);
  assert.match(f, /1 stores {2}2 regions {2}3 events/);
  assert.match(f, /q quit/);
  const s2 = rowOf(f, /127\.0\.0\.1:20162/);
  assert.match(s2, /^ +2 127\.0\.0\.1:20162 +Up +1s +4 +1 +40\.0GiB\/100GiB +10 +5\.0 +2\.50ms/);
  assert.match(s2, /[▁▂▃▄▅▆▇█]{3}/, 'a sparkline of the history');
  assert.ok(lines(f).length <= SIZE.height, 'the frame fits the terminal');
});

test('transactions, conflicts and operators in the header are rounded rates', async (t) => {
  const snap = snapshot();
  snap.totals = {
    ...snap.totals,
    txnsPerSec: 46.3,
    conflictsPerMin: 48.6618,
    operatorsPerMin: 2.5,
  };
  const { app, frame } = start(snap);
  t.after(() => app.unmount());
  await waitFor('first frame', () => frame().includes('127.0.0.1:20161'));
  assert.match(
    frame(),
    /txn 46\/s {2}conflicts 49\/m {2}splits 0\/m {2}merges 0\/m {2}operators 2\.5\/m/,
  );
});

test('keys: regions view sorted by writes, s re-sorts, / filters, enter opens a Region, esc back, 3 events', async (t) => {
  const events = [
    {
      atMs: Date.UTC(2026, 0, 1, 12, 0, 5),
      kind: 'leader' as const,
      regionId: 3,
      text: 'region 3 leader store 1 -> store 2',
    },
    {
      atMs: Date.UTC(2026, 0, 1, 12, 0, 1),
      kind: 'store' as const,
      storeId: 2,
      text: 'store 2 Up -> Disconnected',
    },
  ];
  const snap = snapshot({
    events,
    regions: [
      regionRow(2, { endKey: hex('m'), writesPerSec: 3, sizeBytes: 2048 }),
      regionRow(3, { startKey: hex('m'), writesPerSec: 50, hot: true }),
    ],
  });
  snap.regions[1].peers[2] = {
    ...snap.regions[1].peers[2],
    raftRole: null,
    applied: null,
    appliedLag: null,
    match: 90,
    matchLag: 10,
  };
  const { app, frame, press } = start(snap);
  t.after(() => app.unmount());
  await waitFor('first frame', () => frame().includes('127.0.0.1:20161'));

  await press('2', 'regions (2, by writes)');
  let body = lines(frame());
  const first = body.findIndex((l) => /^ +3 1\/1/.test(l));
  const second = body.findIndex((l) => /^ +2 1\/1/.test(l));
  assert.ok(first > 0 && first < second, 'region 3 (50 writes/s) lists first');
  assert.match(body[first], /s1 s1,s2,s3 +- +50 +- +- HOT \[m, \+inf\)/);
  assert.match(frame(), /s sort:writes/);

  await press('s', 'by reads');
  await press('s', 'by size');
  body = lines(frame());
  assert.ok(
    body.findIndex((l) => /^ +2 1\/1/.test(l)) < body.findIndex((l) => /^ +3 1\/1/.test(l)),
    'region 2 (2 KiB) lists first by size',
  );

  await press('/', 'filter by key:');
  await press('a', 'filter by key: a');
  await press('\r', 'holding key a');
  assert.match(frame(), /regions \(1 holding key a/);
  assert.doesNotMatch(frame(), /\[m, \+inf\)/);

  await press('\r', 'region 2  [-inf, m)');
  await press('\x1b', 'regions (1 holding key a');
  await press('/', 'filter by key:');
  await press('\x1b', (f) => f.includes('regions (2, by size)') && !f.includes('filter by key'));

  // Open region 3 and read its peers.
  await press('j', 'by size)  row 2/2');
  await press('\r', 'region 3  [m, +inf)');
  const d = frame();
  assert.match(d, /epoch conf_ver 1 version 1/);
  assert.match(rowOf(d, /^ +31 /), /1 Voter +Leader +2 +100 +100 +0 +0 ok/);
  assert.match(rowOf(d, /^ +33 /), /3 Voter +unreachable +2 +- +90 +10 +-/);
  assert.match(d, /12:00:05 {2}region 3 leader store 1 -> store 2/);
  assert.doesNotMatch(d, /store 2 Up -> Disconnected/, "only this Region's events");

  await press('3', 'store 2 Up -> Disconnected');
  assert.match(frame(), /12:00:05 leader +region 3 leader store 1 -> store 2/);
});

test('refreshes replace the data; a failed refresh keeps the last frame and says so; q quits', async (t) => {
  const later = snapshot({
    stores: [
      storeRow(1),
      storeRow(2, { reachable: false, error: 'ECONNREFUSED', readsPerSec: null }),
      storeRow(3),
    ],
  });
  const { app, frame, src } = start(snapshot(), later, new Error('boom'));
  t.after(() => app.unmount());
  await waitFor('store 2 unreachable', () => /2 127\.0\.0\.1:20162 +Unreachable/.test(frame()));
  await waitFor('the failed refresh', () => frame().includes('refresh failed: boom'));
  assert.match(frame(), /127\.0\.0\.1:20163/, 'the last frame stays');
  src.push(later);
  await waitFor('recovery', () => !frame().includes('refresh failed'));
  app.stdin.write('q');
  await new Promise((r) => setTimeout(r, 100));
  const after = src.polls();
  // Polls come every 20 ms while the app runs: ten intervals with none is a stopped app.
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(src.polls(), after, 'polling stops after q');
});

test('a first snapshot still on its way shows a waiting line', async (t) => {
  const app = render(
    <Dashboard poll={() => new Promise(() => undefined)} intervalMs={20} size={SIZE} />,
  );
  t.after(() => app.unmount());
  await waitFor('waiting line', () =>
    (app.lastFrame() ?? '').includes('collecting the first snapshot'),
  );
});

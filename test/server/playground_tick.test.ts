// The Raft tick a playground gives its stores (playground_tick.ts): it grows with the
// Regions of a new playground, and a playground keeps the one it was made with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { playgroundTickMs, tickMsForRegions } from '../../src/server/playground_tick.js';
import { tempDir } from '../storage/tmp.js';

test('a tenth of a millisecond per Region, between 100 ms and 1 s', () => {
  assert.equal(tickMsForRegions(1), 100);
  assert.equal(tickMsForRegions(1000), 100);
  assert.equal(tickMsForRegions(2000), 200);
  assert.equal(tickMsForRegions(5001), 501);
  assert.equal(tickMsForRegions(10_000), 1000);
  assert.equal(tickMsForRegions(100_000), 1000);
});

test('a playground keeps the tick it was made with, whatever --regions says later', (t) => {
  const dir = tempDir(t);
  assert.equal(playgroundTickMs(dir, 10_000), 1000);
  assert.equal(playgroundTickMs(dir, 1), 1000);
});

test('a playground made before the tick was written down keeps the stores’ old default', (t) => {
  const dir = tempDir(t);
  fs.mkdirSync(path.join(dir, 'pd'));
  assert.equal(playgroundTickMs(dir, 10_000), 100);
  assert.equal(playgroundTickMs(dir, 10_000), 100);
});

test('a damaged tick file is a clear error, not a guess', (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'raft-tick.json'), '{"tickMs": "fast"}');
  assert.throws(
    () => playgroundTickMs(dir, 1),
    /raft-tick\.json: tickMs must be a positive integer/,
  );
});

// Region split on a real cluster (PD + 3 stores): by hand through the CLI while 8 writers
// write, and by size with a low threshold, repeatedly. Every acknowledged write must be
// readable exactly once after, scans must return each key once, and clients may see no
// error other than the region errors they retry.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { TestCluster, eventually, writeLoad } from './cluster.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/run.js');

async function nyx(
  c: TestCluster,
  ...args: string[]
): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args, '--pd', c.pd]);
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

interface RegionJson {
  id: number;
  startKey: string;
  endKey: string;
  epoch: { confVer: number; version: number };
  leader: { id: number; storeId: number } | null;
}

/** Every acknowledged key reads back its value, and a full scan returns each key once. */
async function checkAllReadable(c: TestCluster, acked: Map<string, string>): Promise<void> {
  const kv = c.rawClient();
  const found = await kv.batchGet([...acked.keys()]);
  for (const [k, v] of acked) assert.equal(found.get(k)?.toString(), v, `key ${k}`);
  const all = await kv.scan(Buffer.alloc(0), Buffer.alloc(0));
  const seen = new Set<string>();
  for (const p of all) {
    const k = p.key.toString();
    assert.ok(!seen.has(k), `scan returned ${k} twice`);
    seen.add(k);
  }
  for (const k of acked.keys()) assert.ok(seen.has(k), `scan misses ${k}`);
}

describe('split on a real cluster', () => {
  let c: TestCluster;
  before(async () => {
    c = await TestCluster.start({ regions: 1 });
  });
  after(async () => {
    await c.stop();
  });

  test('nyx region split while 8 writers write', async () => {
    const load = writeLoad(c.rawClient(), 'man', 8);
    await eventually('some writes', async () => load.acked.size > 200);
    const before = JSON.parse((await nyx(c, 'region', 'list', '--json')).stdout) as RegionJson[];
    assert.equal(before.length, 1);
    const r = await nyx(
      c,
      'region',
      'split',
      String(before[0]!.id),
      '--key',
      'M',
      '--key',
      'd',
      '--json',
      '--timeout',
      '20s',
    );
    assert.equal(r.code, 0, r.stderr);
    const halves = JSON.parse(r.stdout) as RegionJson[];
    assert.deepEqual(
      halves.map((h) => [h.startKey, h.endKey]),
      [
        ['', 'M'],
        ['M', 'd'],
        ['d', ''],
      ],
    );
    assert.equal(halves[0]!.id, before[0]!.id, 'the parent keeps the leftmost range');
    for (const h of halves) assert.equal(h.epoch.version, before[0]!.epoch.version + 1);
    // --key alone picks the Region that holds it.
    const r2 = await nyx(c, 'region', 'split', '--key', 'k', '--json', '--timeout', '20s');
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(
      (JSON.parse(r2.stdout) as RegionJson[]).map((h) => [h.startKey, h.endKey]),
      [
        ['d', 'k'],
        ['k', ''],
      ],
    );
    await eventually('writes after the split', async () => load.acked.size > 600);
    const acked = await load.stop();
    assert.deepEqual(
      load.errors.map((e) => e.message),
      [],
      'writers saw errors',
    );
    await checkAllReadable(c, acked);
    // Every new Region gets a leader and PD knows it.
    await eventually('leaders of all Regions', async () => {
      const rs = JSON.parse((await nyx(c, 'region', 'list', '--json')).stdout) as RegionJson[];
      return rs.length === 4 && rs.every((x) => x.leader !== null);
    });
  });

  test('a bad split is one clear line', async () => {
    const r = await nyx(c, 'region', 'split', '9999', '--key', 'x');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^Error: region 9999 not found\b[^\n]*\n$/);
    const r2 = await nyx(c, 'region', 'split', '--key', 'k');
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr, /^Error: [^\n]*start key[^\n]*\n$/);
  });
});

// `nyx txn` from shell-script-like separate processes: a transaction begun by one process
// and used by others; two of them conflicting on one key (one commits, the other exits 1
// with one line saying "conflict" and naming the key); an abandoned transaction rolled
// back by its store after the idle TTL; `nyx txn exec` scripts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nyx as runNyx, type Run } from '../cli/nyx.js';
import { TestCluster } from './cluster.js';

// The store's idle TTL is left at its default (60 s), long enough that a loaded CI machine
// (a `nyx` process can take seconds to start) never lets a live transaction go idle
// between two calls; the abandoned transaction asks for a short one at begin.
const IDLE_TTL_MS = 3000;

describe('nyx txn across processes', () => {
  let c: TestCluster;
  const nyx = (args: string[], input?: string): Promise<Run> =>
    runNyx([...args, '--pd', c.pd], input === undefined ? {} : { input });
  before(async () => {
    c = await TestCluster.start({ regions: 4 });
  });
  after(async () => {
    await c.stop();
  });

  test('two scripts write one key: one commits, the other exits 1 with "conflict" and the key', async () => {
    // Independent processes run in parallel where the order does not matter.
    const [a, b] = (await Promise.all([nyx(['txn', 'begin']), nyx(['txn', 'begin'])])).map((r) => {
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim();
    });
    assert.match(a!, /^\d+\.\d+\.[0-9a-f]{16}$/);
    // Both read the balance, then both write it (a lost update, if both committed).
    const reads = await Promise.all([
      nyx(['txn', 'get', 'balance', '--txn', a!]),
      nyx(['txn', 'get', 'balance', '--txn', b!]),
    ]);
    for (const r of reads)
      assert.deepEqual([r.code, r.stdout], [0, ''], 'a missing key prints nothing');
    const puts = await Promise.all([
      nyx(['txn', 'put', 'balance', '10', '--txn', a!]),
      nyx(['txn', 'put', 'balance', '20', '--txn', b!]),
    ]);
    for (const r of puts) assert.equal(r.code, 0, r.stderr);
    const [own, outside] = await Promise.all([
      nyx(['txn', 'get', 'balance', '--txn', a!]),
      nyx(['txn', 'exec'], 'get balance\ncommit\n'),
    ]);
    assert.equal(own.stdout, '10\n', 'reads its own write');
    assert.match(outside.stdout, /^\d+\n$/, 'nothing visible outside before commit');
    const first = await nyx(['txn', 'commit', '--txn', a!, '--json']);
    assert.equal(first.code, 0, first.stderr);
    const commitTs = BigInt((JSON.parse(first.stdout) as { commitTs: string }).commitTs);
    assert.ok(commitTs > BigInt(a!.split('.')[1]!));
    const second = await nyx(['txn', 'commit', '--txn', b!]);
    assert.equal(second.code, 1);
    const lines = second.stderr.trim().split('\n');
    assert.equal(lines.length, 1, second.stderr);
    assert.match(lines[0]!, /conflict/i);
    assert.match(lines[0]!, /"balance"/);
    const [now, again] = await Promise.all([
      nyx(['txn', 'exec'], 'get balance\ncommit\n'),
      nyx(['txn', 'commit', '--txn', a!]),
    ]);
    assert.equal(now.stdout.split('\n')[0], '10');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already committed/);
  });

  test('an abandoned transaction is rolled back after the idle TTL; a later commit fails clearly', async () => {
    const id = (await nyx(['txn', 'begin', '--idle-ttl', String(IDLE_TTL_MS)])).stdout.trim();
    const put = await nyx(['txn', 'put', 'abandoned', 'x', '--txn', id]);
    // On a very slow machine the put itself may come after the TTL: then it says so.
    if (put.code !== 0) assert.match(put.stderr, /rolled back after 3000 ms without a call/);
    await new Promise((r) => setTimeout(r, IDLE_TTL_MS + 1000));
    const late = await nyx(['txn', 'commit', '--txn', id]);
    assert.equal(late.code, 1);
    assert.match(
      late.stderr.trim(),
      /^Error: transaction \S+ was rolled back after \d+ ms without a call$/,
    );
    const seen = await nyx(['txn', 'exec'], 'get abandoned\ncommit\n');
    assert.ok(!seen.stdout.includes('x'), seen.stdout);
  });

  test('exec runs a script: results, own writes, scan, JSON, and bad scripts', async () => {
    const script = [
      '# a transfer',
      'put "exec a" 5',
      'put execb 7',
      'get "exec a"',
      'scan exec execz',
      'delete execb',
      'get execb',
      'commit',
    ].join('\n');
    const r = await nyx(['txn', 'exec'], script);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], '5');
    assert.deepEqual(lines.slice(1, 3), ['exec a\t5', 'execb\t7']);
    assert.match(lines[3]!, /^\d+$/, 'commit prints the commit timestamp');
    const j = await nyx(['txn', 'exec', '--json'], 'get "exec a"\nget execb\nrollback\n');
    const doc = JSON.parse(j.stdout) as {
      committed: boolean;
      results: { op: string; found?: boolean; value?: string | null }[];
    };
    assert.equal(doc.committed, false);
    assert.deepEqual(
      doc.results.map((x) => [x.op, x.found, x.value]),
      [
        ['get', true, '5'],
        ['get', false, null],
        ['rollback', undefined, undefined],
      ],
    );
    const bad = await nyx(['txn', 'exec'], 'put a\ncommit\n');
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr.trim(), 'Error: line 1: put takes 2 argument(s), got 1');
    const open = await nyx(['txn', 'exec'], 'put a b\n');
    assert.equal(open.code, 1);
    assert.match(open.stderr, /must end with commit or rollback/);
  });
});

// A client killed with -9 in the middle of a commit leaves locks behind; later readers
// resolve them (Percolator §2.2): rolled back when the primary never committed (after its
// TTL), rolled forward when it did.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTxnClient } from '../../src/client/create_client.js';
import { runInTransaction } from '../../src/client/txn/run_in_transaction.js';
import type { TxnClient } from '../../src/client/txn/txn_client.js';
import { physicalMs } from '../../src/client/txn/lock_resolver.js';
import { TestCluster } from './cluster.js';
import { spreadKeys } from './txn_workloads.js';

const CHILD = fileURLToPath(new URL('./txn_crash_child.js', import.meta.url));

/** Runs the child until it prints `until`, then kills it with -9 (if it is still alive). */
function runChild(pd: string, mode: string, pairs: string[], until: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, pd, mode, ...pairs], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child never printed ${until}: ${out} ${err}`));
    }, 30_000);
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = until.exec(out);
      if (m) {
        child.kill('SIGKILL');
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
    child.on('exit', () => {
      if (!until.test(out)) {
        clearTimeout(timer);
        reject(new Error(`the child exited before ${until}: ${out} ${err}`));
      }
    });
  });
}

async function read(t: TxnClient, keys: string[]): Promise<(string | undefined)[]> {
  const txn = await t.begin();
  const got = await txn.batchGet(keys);
  return keys.map((k) => got.get(k)?.toString());
}

describe('a client killed mid-commit', () => {
  let c: TestCluster;
  let reader: TxnClient;
  before(async () => {
    c = await TestCluster.start({ regions: 4 });
    reader = createTxnClient({ pd: c.pd });
  });
  after(async () => {
    reader.close();
    await c.stop();
  });

  test('after prewrite: readers push past its locks, writers roll it back after the TTL', async () => {
    const keys = spreadKeys('crash1', 4, 4);
    await runInTransaction(reader, async (x) => {
      for (const k of keys) await x.put(k, 'old');
    });
    const line = await runChild(
      c.pd,
      'after-prewrite',
      keys.map((k) => `${k}=new`),
      /PREWRITTEN \d+/,
    );
    const startTs = BigInt(line.split(' ')[1]!);
    // A reader meets the locks and pushes their min_commit_ts past its snapshot (TiKV's
    // CheckTxnStatus with caller_start_ts): it reads the old values without waiting.
    assert.deepEqual(await read(reader, keys), ['old', 'old', 'old', 'old']);
    // A writer must wait out the TTL (3 s from start_ts), then rolls the dead transaction
    // back and commits: it cannot get through any earlier, since only an expired lock may
    // be rolled back.
    await runInTransaction(reader, async (x) => {
      for (const k of keys) await x.put(k, 'after');
    });
    const now = await reader.getTimestamp();
    assert.ok(
      physicalMs(now) - physicalMs(startTs) >= 3000,
      `a writer got past the locks ${physicalMs(now) - physicalMs(startTs)} ms after start_ts, within their TTL`,
    );
    assert.deepEqual(await read(reader, keys), ['after', 'after', 'after', 'after']);
  });

  test('after the primary committed: readers roll the secondaries forward', async () => {
    const keys = spreadKeys('crash2', 4, 4);
    await runInTransaction(reader, async (x) => {
      for (const k of keys) await x.put(k, 'old');
    });
    const line = await runChild(
      c.pd,
      'after-primary',
      keys.map((k) => `${k}=new`),
      /COMMITTED \d+/,
    );
    assert.match(line, /COMMITTED \d+/);
    assert.deepEqual(await read(reader, keys), ['new', 'new', 'new', 'new']);
  });
});

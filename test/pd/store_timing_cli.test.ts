// Issue 6 §4 item 3 end to end: a real `nyx store start` whose --tick-ms differs from the
// cluster's is refused by PD and exits with one clear line, instead of joining a cluster
// whose leader leases assume it ticks like everyone else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { PdClient } from '../../src/client/pd_client.js';
import { PdServer } from '../../src/server/pd_server.js';
import { tempDir } from './helpers.js';

// dist/test/pd/ -> the package root.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RUN = path.join(ROOT, 'bin', 'run.js');

function nyx(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [RUN, ...args],
      { cwd: ROOT, env: { ...process.env, NYX_PD: '', NYX_LOG_LEVEL: 'warn' }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
  });
}

test('a store started with another --tick-ms than the cluster’s exits with one clear line', async (t) => {
  const server = await PdServer.start({
    dataDir: tempDir(t),
    addr: '127.0.0.1:0',
    statusAddr: '127.0.0.1:0',
    initialStores: 3,
    logger: pino({ level: 'silent' }),
  });
  t.after(() => server.stop());
  const pd = PdClient.connect(server.grpcAddress, { timeoutMs: 5000 });
  t.after(() => pd.close());
  // The cluster's first store ticks every 50 ms, as `nyx playground` and the tests run them.
  await pd.putStore({
    id: await pd.allocId(),
    address: '127.0.0.1:1',
    raftTiming: { tickMs: 50, electionTicks: 10 },
  });

  const run = await nyx([
    'store',
    'start',
    '--pd',
    server.grpcAddress,
    '--data-dir',
    tempDir(t),
    '--addr',
    '127.0.0.1:0',
    '--status-addr',
    '127.0.0.1:0',
    '--tick-ms',
    '100',
  ]);
  assert.equal(run.code, 1, run.stdout + run.stderr);
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 1, run.stderr);
  assert.match(
    lines[0]!,
    /^Error: store \d+ runs with --tick-ms 100 --election-ticks 10 but this cluster uses --tick-ms 50 --election-ticks 10 .*start it with those settings$/,
  );
  assert.doesNotMatch(run.stdout, /ready/);
  assert.equal((await pd.getAllStores()).length, 1, 'the refused store was not registered');
});

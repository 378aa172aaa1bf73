// `nyx playground` as a person runs it, a real process with real children: a child that
// dies is reported at once and the rest keep running; the playground then exits non-zero;
// kill -9 of the playground leaves no child behind; a port in use is named on the console.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePortRange } from '../../src/common/free_port.js';
import { RUN, ROOT } from '../cli/nyx.js';
import { eventually } from './cluster.js';

interface Up {
  pd: string;
  processes: { name: string; storeId?: number; pid: number; status: string; log: string }[];
}

interface Running {
  child: ChildProcess;
  up: Up;
  stderr: () => string;
  exited: Promise<number | null>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function ports(): Promise<string[]> {
  const pd = await freePortRange(2);
  const store = await freePortRange(3);
  const status = await freePortRange(3);
  return [
    '--pd-port',
    String(pd + 1),
    '--store-port',
    String(store),
    '--store-status-port',
    String(status),
  ];
}

function dataDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-pg-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts `nyx playground --json` and resolves once it printed its processes. */
async function startPlayground(t: TestContext, args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [RUN, 'playground', '--json', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NYX_PD: '' },
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      await exited;
    }
  });
  const up = await eventually(
    'the playground to be up',
    async () => {
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${err}`);
      try {
        return JSON.parse(out) as Up;
      } catch {
        return undefined;
      }
    },
    90_000,
  );
  return { child, up, stderr: () => err, exited };
}

test('a child that dies is reported at once; the others run on; the playground exits 1', async (t) => {
  const pg = await startPlayground(t, ['--data-dir', dataDir(t), ...(await ports())]);
  const stores = pg.up.processes.filter((p) => p.name.startsWith('store'));
  assert.equal(stores.length, 3);
  for (const s of stores) {
    assert.ok(s.storeId! > 0);
    assert.equal(path.basename(s.log), `store-${s.storeId}.log`, 'logs are named by store id');
    assert.ok(fs.existsSync(s.log));
  }
  const victim = stores[1]!;
  process.kill(victim.pid, 'SIGKILL');
  const killedAt = Date.now();
  const line = await eventually('the death on the console', async () =>
    pg
      .stderr()
      .split('\n')
      .find((l) => l.includes(' died: ')),
  );
  assert.ok(Date.now() - killedAt < 3000, 'reported within seconds');
  assert.equal(
    line,
    `${victim.name}${victim.name === `store${victim.storeId}` ? '' : ` (store ${victim.storeId})`} died: killed by SIGKILL; its log: ${victim.log}. The other processes keep running.`,
  );
  for (const s of stores.filter((x) => x !== victim)) {
    assert.ok(alive(s.pid), `${s.name} still runs`);
    const res = await fetch(`http://${s.status}/health`);
    assert.equal(res.status, 200);
  }
  pg.child.kill('SIGINT');
  assert.equal(await pg.exited, 1);
  assert.match(
    pg.stderr(),
    new RegExp(
      `Error: 1 process\\(es\\) died while the playground ran: ${victim.name}( \\(store \\d+\\))? \\(killed by SIGKILL\\)`,
    ),
  );
  for (const p of pg.up.processes) assert.ok(!alive(p.pid), `${p.name} stopped`);
});

test('kill -9 of the playground leaves no child running', async (t) => {
  const pg = await startPlayground(t, ['--data-dir', dataDir(t), ...(await ports())]);
  const pids = pg.up.processes.map((p) => p.pid);
  assert.equal(pids.length, 4);
  pg.child.kill('SIGKILL');
  await pg.exited;
  await eventually('every child to stop', async () => pids.every((pid) => !alive(pid)), 15_000);
});

test('a port in use is named on the console with the reason', async (t) => {
  const args = await ports();
  const storePort = Number(args[3]);
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(storePort + 1, '127.0.0.1', () => r()));
  t.after(() => blocker.close());
  const child = spawn(process.execPath, [RUN, 'playground', '--data-dir', dataDir(t), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NYX_PD: '' },
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  assert.equal(code, 1);
  assert.match(
    err,
    new RegExp(
      `^Error: store2 could not start: cannot listen on 127\\.0\\.0\\.1:${storePort + 1} \\(address already in use\\); see .*store2\\.log\\n$`,
    ),
  );
});

// The data dir lock (src/common/data_dir_lock.ts) with real processes: a live holder in
// another process, a holder that died (kill -9) and a pid that lives on in a new process.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataDirLock, DataDirLockedError, LOCK_FILE } from '../../src/common/data_dir_lock.js';

const MODULE = new URL('../../src/common/data_dir_lock.js', import.meta.url).href;

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-lock-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Another process that takes the lock and holds it until killed. */
async function holder(t: TestContext, dir: string): Promise<ChildProcess> {
  const script = `
    const { DataDirLock } = await import(${JSON.stringify(MODULE)});
    DataDirLock.acquire(${JSON.stringify(dir)});
    process.stdout.write('locked\\n');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
  return child;
}

test('a second lock in the same process is refused; release frees it', (t) => {
  const dir = tempDir(t);
  const lock = DataDirLock.acquire(dir);
  const owner = JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8')) as { pid: number };
  assert.equal(owner.pid, process.pid);
  assert.throws(() => DataDirLock.acquire(dir), /data dir .* is in use: locked by this process/);
  lock.release();
  assert.equal(fs.existsSync(path.join(dir, LOCK_FILE)), false);
  lock.release(); // twice is fine
  DataDirLock.acquire(dir).release();
  assert.deepEqual(fs.readdirSync(dir), [], 'no temp files left behind');
});

test('a live holder in another process keeps the lock; once it is killed -9 the lock is taken over', async (t) => {
  const dir = tempDir(t);
  const child = await holder(t, dir);
  assert.throws(
    () => DataDirLock.acquire(dir),
    (e: unknown) =>
      e instanceof DataDirLockedError &&
      e.message ===
        `data dir ${dir} is in use: locked by process ${child.pid} (lock file ${path.join(fs.realpathSync(dir), LOCK_FILE)})`,
  );
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  assert.ok(fs.existsSync(path.join(dir, LOCK_FILE)), 'kill -9 leaves the LOCK file behind');
  const lock = DataDirLock.acquire(dir);
  const owner = JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8')) as { pid: number };
  assert.equal(owner.pid, process.pid);
  lock.release();
});

test(
  'a LOCK whose pid now belongs to a later process is stale (pid reuse)',
  { skip: process.platform !== 'linux' },
  (t) => {
    const dir = tempDir(t);
    // The pid of a live process (this test's parent shell is long-lived, the init process
    // even more so) with a start time it never had.
    const pid = process.ppid;
    fs.writeFileSync(
      path.join(dir, LOCK_FILE),
      JSON.stringify({ pid, host: os.hostname(), start: '1' }) + '\n',
    );
    const lock = DataDirLock.acquire(dir);
    lock.release();
    // The same live pid with its real start time is a holder.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    fs.writeFileSync(
      path.join(dir, LOCK_FILE),
      JSON.stringify({ pid, host: os.hostname(), start }),
    );
    assert.throws(() => DataDirLock.acquire(dir), new RegExp(`locked by process ${pid} `));
  },
);

test('a LOCK from another host or one it cannot read is never taken over', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, LOCK_FILE);
  fs.writeFileSync(file, JSON.stringify({ pid: 1, host: 'elsewhere', start: null }));
  assert.throws(
    () => DataDirLock.acquire(dir),
    /locked by process 1 on host elsewhere; if it no longer runs, remove/,
  );
  fs.writeFileSync(file, 'garbage');
  assert.throws(() => DataDirLock.acquire(dir), /is not a lock this version wrote/);
});

test('release leaves a LOCK that is not its own alone', (t) => {
  const dir = tempDir(t);
  const lock = DataDirLock.acquire(dir);
  const file = path.join(dir, LOCK_FILE);
  fs.rmSync(file);
  fs.writeFileSync(file, JSON.stringify({ pid: 1, host: os.hostname(), start: null }));
  lock.release();
  assert.ok(fs.existsSync(file));
});

test('a process that exits without releasing removes its LOCK on the way out', (t) => {
  const dir = tempDir(t);
  const script = `
    const { DataDirLock } = await import(${JSON.stringify(MODULE)});
    DataDirLock.acquire(${JSON.stringify(dir)});
    process.exit(3);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script]);
  assert.equal(r.status, 3, r.stderr.toString());
  assert.equal(fs.existsSync(path.join(dir, LOCK_FILE)), false);
});

import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  FAILPOINT_PANIC_EXIT_CODE,
  FailpointError,
  FailpointSpecError,
  clearFailpoints,
  configureFailpoints,
  evalFailpoint,
  failpoint,
  failpointAsync,
  failpointsActive,
  listFailpoints,
  pauseFilePath,
  removeFailpoint,
  setFailpoint,
} from '../../src/common/failpoint.js';

const FAILPOINT_MODULE = fileURLToPath(new URL('../../src/common/failpoint.js', import.meta.url));

/** How many of n hits of a synchronous site throw. */
function thrownOf(n: number): number {
  let thrown = 0;
  for (let i = 0; i < n; i++) {
    try {
      failpoint('apply_before');
    } catch (e) {
      assert.ok(e instanceof FailpointError);
      thrown++;
    }
  }
  return thrown;
}

describe('failpoints in one process', () => {
  afterEach(() => clearFailpoints());

  test('off by default: a hit does nothing', () => {
    assert.equal(failpointsActive(), false);
    failpoint('apply_before');
    assert.equal(failpointAsync('apply_before'), undefined);
    assert.equal(evalFailpoint('transport_drop_to_store_1'), undefined);
  });

  test('return throws an injected error naming the failpoint and its argument', () => {
    setFailpoint('raft_log_before_write', 'return(disk full)');
    assert.equal(failpointsActive(), true);
    assert.throws(
      () => failpoint('raft_log_before_write'),
      (e: Error) =>
        e instanceof FailpointError &&
        e.failpoint === 'raft_log_before_write' &&
        e.arg === 'disk full' &&
        /raft_log_before_write: injected error \(disk full\)/.test(e.message),
    );
    failpoint('raft_log_after_write'); // another name is untouched
  });

  test('a count limits how often a term fires; the failpoint then passes', () => {
    setFailpoint('apply_before', '2*return');
    assert.equal(thrownOf(5), 2);
    assert.deepEqual(listFailpoints(), [
      { name: 'apply_before', action: '0*return', hits: 2, paused: 0 },
    ]);
  });

  test('terms are tried in order: 1*off->return lets one hit pass', () => {
    setFailpoint('apply_before', '1*off->return');
    failpoint('apply_before');
    assert.throws(() => failpoint('apply_before'), FailpointError);
    assert.throws(() => failpoint('apply_before'), FailpointError);
  });

  test('a probability fires about that fraction of hits', () => {
    setFailpoint('apply_before', '25%return');
    const thrown = thrownOf(4000);
    // Binomial(4000, 0.25): mean 1000, sd 27; the bounds are over 7 sd away.
    assert.ok(thrown > 800 && thrown < 1200, `${thrown} of 4000`);
    setFailpoint('apply_before', '0%return');
    assert.equal(thrownOf(1000), 0);
    setFailpoint('apply_before', '50%3*return');
    assert.equal(thrownOf(1000), 3, 'a count is spent only when the term fires');
  });

  test('sleep at a synchronous site blocks the whole thread', async () => {
    setFailpoint('apply_before', 'sleep(60)');
    let timerRan = false;
    setTimeout(() => (timerRan = true), 0);
    const t0 = performance.now();
    failpoint('apply_before');
    const took = performance.now() - t0;
    assert.ok(took >= 55, `slept ${took} ms`);
    assert.equal(timerRan, false, 'nothing else ran while it slept');
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(timerRan, true);
  });

  test('sleep at an asynchronous site is a timer', async () => {
    setFailpoint('apply_before', 'sleep(60)');
    const t0 = performance.now();
    let ticks = 0;
    const iv = setInterval(() => ticks++, 5);
    await failpointAsync('apply_before');
    clearInterval(iv);
    assert.ok(performance.now() - t0 >= 55);
    assert.ok(ticks > 0, 'the event loop ran meanwhile');
  });

  test('return at an asynchronous site rejects', async () => {
    setFailpoint('apply_before', 'return');
    await assert.rejects(failpointAsync('apply_before')!, FailpointError);
  });

  test('pause at an asynchronous site waits until the failpoint is changed or removed', async () => {
    setFailpoint('apply_before', 'pause');
    let released = 0;
    void failpointAsync('apply_before')!.then(() => released++);
    void failpointAsync('apply_before')!.then(() => released++);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(released, 0);
    assert.equal(listFailpoints()[0]!.paused, 2);
    setFailpoint('apply_before', 'sleep(1)'); // any change releases
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(released, 2);

    setFailpoint('apply_before', 'pause');
    void failpointAsync('apply_before')!.then(() => released++);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(released, 2);
    assert.equal(removeFailpoint('apply_before'), true);
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(released, 3);
  });

  test('off removes the failpoint and makes hits free again', () => {
    setFailpoint('apply_before', 'return');
    setFailpoint('apply_before', 'off');
    assert.equal(failpointsActive(), false);
    assert.deepEqual(listFailpoints(), []);
    failpoint('apply_before');
  });

  test('unknown names and bad lists change nothing', () => {
    assert.throws(() => setFailpoint('no_such_point', 'return'), FailpointSpecError);
    assert.throws(
      () => configureFailpoints('apply_before=return;no_such_point=return'),
      /unknown failpoint "no_such_point"/,
    );
    assert.throws(() => configureFailpoints('apply_before=return;apply_after=bad'), /unknown/);
    assert.equal(failpointsActive(), false);
    const set = configureFailpoints('apply_before=return,transport_drop_to_store_2=20%return');
    assert.deepEqual(
      set.map((f) => [f.name, f.action]),
      [
        ['apply_before', 'return'],
        ['transport_drop_to_store_2', '20%return'],
      ],
    );
  });

  test('evalFailpoint hands the action to the site', () => {
    setFailpoint('transport_delay_to_store_4', 'sleep(30)');
    assert.deepEqual(evalFailpoint('transport_delay_to_store_4'), { kind: 'sleep', ms: 30 });
    setFailpoint('transport_drop_to_store_4', 'print(seen)->return');
    assert.equal(
      evalFailpoint('transport_drop_to_store_4'),
      undefined,
      'print fired, nothing else',
    );
  });
});

/** Run a module snippet in a child node process with the failpoint module imported as fp. */
function child(body: string): {
  proc: ReturnType<typeof spawn>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
} {
  const src = `import * as fp from ${JSON.stringify(FAILPOINT_MODULE)};\n${body}`;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', src], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    proc.once('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { proc, done };
}

describe('failpoints that stop the process', () => {
  test('panic exits at once with code 101 and one stderr line, skipping exit handlers', async () => {
    const { done } = child(`
      process.on('exit', () => process.stdout.write('exit handler ran\\n'));
      fp.setFailpoint('apply_after', '1*panic(boom)');
      process.stdout.write('before\\n');
      fp.failpoint('apply_after');
      process.stdout.write('after\\n');
    `);
    const r = await done;
    assert.equal(r.code, FAILPOINT_PANIC_EXIT_CODE);
    assert.equal(r.stdout, 'before\n');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    const line = JSON.parse(lines[0]!) as { failpoint: string; msg: string; level: number };
    assert.equal(line.failpoint, 'apply_after');
    assert.match(line.msg, /panic.*boom/);
    assert.equal(line.level, 60);
  });

  test('pause at a synchronous site blocks the process until its pause file is deleted', async () => {
    const { proc, done } = child(`
      fp.setFailpoint('raft_log_after_write', 'pause');
      let ticks = 0;
      setInterval(() => ticks++, 5).unref();
      setTimeout(() => {
        const before = ticks;
        const t0 = Date.now();
        fp.failpoint('raft_log_after_write');
        const waited = Date.now() - t0;
        fp.failpoint('raft_log_after_write'); // released = off: passes
        process.stdout.write(JSON.stringify({ waited, ticksDuring: ticks - before, left: fp.listFailpoints().length }) + '\\n');
      }, 30);
    `);
    const file = pauseFilePath(proc.pid!);
    try {
      const deadline = Date.now() + 10_000;
      while (!fs.existsSync(file)) {
        assert.ok(Date.now() < deadline, 'the child never paused');
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(fs.readFileSync(file, 'utf8'), 'raft_log_after_write\n');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(proc.exitCode, null, 'still paused');
    } finally {
      fs.rmSync(file, { force: true });
    }
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { waited: number; ticksDuring: number; left: number };
    assert.ok(out.waited >= 250, `paused ${out.waited} ms`);
    assert.equal(out.ticksDuring, 0, 'no timer ran while paused');
    assert.equal(out.left, 0, 'the release turned the failpoint off');
    assert.match(r.stderr, /delete .*nyx-failpoint-paused-\d+ to resume/);
  });
});

import assert from 'node:assert/strict';
import test from 'node:test';
import { Latches } from '../../src/txn/latches.js';

const b = (s: string) => Buffer.from(s);
const tick = () => new Promise((r) => setImmediate(r));

test('latches: commands on a shared key run one at a time, in arrival order', async () => {
  const l = new Latches(64);
  const order: string[] = [];
  const r1 = await l.acquire([b('a'), b('b')]);
  const p2 = l.acquire([b('b')]).then((r) => (order.push('2'), r));
  const p3 = l.acquire([b('c')]).then((r) => (order.push('3'), r));
  const p4 = l.acquire([b('a'), b('b')]).then((r) => (order.push('4'), r));
  await tick();
  assert.deepEqual(order, ['3'], 'only the command on a free key runs');
  r1();
  await tick();
  assert.deepEqual(order, ['3', '2'], 'FIFO: 2 came before 4');
  (await p2)();
  await tick();
  assert.deepEqual(order, ['3', '2', '4']);
  (await p3)();
  (await p4)();
  assert.equal(l.waiting, 0);
});

test('latches: keys in any order and repeated keys do not deadlock', async () => {
  const l = new Latches(4);
  const keys = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6'].map(b);
  let running = 0;
  let maxRunning = 0;
  await Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      const mine = [keys[i % 6]!, keys[(i * 5) % 6]!, keys[i % 6]!];
      const release = await l.acquire(mine);
      running++;
      maxRunning = Math.max(maxRunning, running);
      await tick();
      running--;
      release();
    }),
  );
  assert.equal(l.waiting, 0);
  assert.ok(maxRunning >= 1);
});

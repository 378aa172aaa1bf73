// check_history.js re-checks each kind of kept history offline and exits 1 on a failure.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./check_history.js', import.meta.url));

function check(t: test.TestContext, name: string, content: unknown) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-check-history-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify({ rerun: 'npm run chaos -- …', ...(content as object) }));
  const r = spawnSync(process.execPath, [SCRIPT, file], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('append-history.json: an aborted append that a committed read saw fails (G1a)', (t) => {
  const history = [
    { id: 1, status: 'fail', ops: [{ f: 'append', key: 'x', value: 1 }] },
    { id: 2, status: 'ok', ops: [{ f: 'r', key: 'x', value: [1] }] },
  ];
  const bad = check(t, 'append-history.json', { history, finalReads: { x: [1] } });
  assert.equal(bad.status, 1, bad.out);
  assert.match(bad.out, /G1a: T2 key x: read 1, appended by aborted T1/);
  const good = check(t, 'append-history.json', {
    history: [{ ...history[0], status: 'ok' }, history[1]],
    finalReads: { x: [1] },
  });
  assert.equal(good.status, 0, good.out);
  assert.match(good.out, /no G0\/G1a\/G1b\/G1c\/G-single .* no committed append lost/);
});

test('bank-history.json: a wrong total or a half-applied transfer fails', (t) => {
  const base = {
    accounts: ['a', 'b'],
    initialBalance: 10,
    transfers: [{ id: 't1', from: 'a', to: 'b', amount: 3, status: 'ok' }],
    badTotals: [],
    final: { balances: { a: 7, b: 13 }, recorded: ['t1'] },
  };
  const good = check(t, 'bank-history.json', base);
  assert.equal(good.status, 0, good.out);
  assert.match(good.out, /every total 20; final balances match the 1 recorded transfers/);
  const bad = check(t, 'bank-history.json', {
    ...base,
    badTotals: [{ ts: '5', total: 17, balances: [7, 10] }],
    final: { balances: { a: 7, b: 10 }, recorded: ['t1'] },
  });
  assert.equal(bad.status, 1, bad.out);
  assert.match(bad.out, /saw a total of 17, not 20/);
  assert.match(bad.out, /account b: balance 10, the recorded transfers make it 13/);
});

// waitForPd (src/cli/wait_for_pd.ts) against a port where nothing listens: it reports why
// it waits, keeps trying until its deadline (not a retry interval short of it), and then
// fails with the reason and the deadline it was given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PdUnavailableError } from '../../src/client/pd_errors.js';
import { waitForPd } from '../../src/cli/wait_for_pd.js';

test('waits in plain sight until the deadline, then gives up with the reason', async () => {
  const reports: string[] = [];
  const started = Date.now();
  await assert.rejects(
    waitForPd('127.0.0.1:1', {
      timeoutMs: 2500,
      retryMs: 300,
      repeatMs: 600,
      report: (l) => reports.push(l),
    }),
    (e: unknown) =>
      e instanceof PdUnavailableError &&
      e.message === 'cannot reach PD at 127.0.0.1:1 (connection refused; gave up after 2.5 s)',
  );
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 2500 - 250, `gave up after ${elapsed} ms, before the 2500 ms deadline`);
  assert.ok(elapsed < 2500 + 1000, `gave up after ${elapsed} ms`);
  assert.match(
    reports[0]!,
    /^waiting for PD at 127\.0\.0\.1:1 \(connection refused\); retrying for up to \d s more$/,
  );
  assert.ok(reports.length >= 2, `an unchanged reason is repeated: ${reports.join(' | ')}`);
  assert.match(reports[1]!, /^still waiting for PD at 127\.0\.0\.1:1 \(connection refused\)/);
});

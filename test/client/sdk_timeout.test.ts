// The SDK's timeoutMs bounds a call also when PD is the part that does not answer: the
// region lookup must not run on the PD client's own, longer, retry budget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createRawClient } from '../../src/client/create_client.js';

/** A port nobody listens on: connection refused at once, so only retries take time. */
async function deadPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

test('timeoutMs holds when PD is down', async () => {
  const client = createRawClient({ pd: `127.0.0.1:${await deadPort()}`, timeoutMs: 1000 });
  try {
    const start = Date.now();
    await assert.rejects(client.get(Buffer.from('k')), /cannot reach PD at 127\.0\.0\.1:\d+/);
    const ms = Date.now() - start;
    // The budget plus one backoff step and scheduling slack; it was ~10 s (the PD
    // client's default) before.
    assert.ok(ms < 2500, `gave up after ${ms} ms`);
    assert.ok(ms >= 900, `gave up early, after ${ms} ms`);
  } finally {
    client.close();
  }
});

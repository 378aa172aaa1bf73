// "cannot reach PD at … (reason)": the reason is the most telling failure seen. An attempt
// that runs out of time after a refused connection does not hide the refusal (on a loaded
// machine the last attempt of a short --timeout often ends so).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { PdClient } from '../../src/client/pd_client.js';

async function listen(srv: net.Server): Promise<number> {
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return (srv.address() as net.AddressInfo).port;
}

test('refused, then out of time: the refusal is the reason given', async (t) => {
  // The first endpoint refuses; the second accepts TCP and never answers (no HTTP/2), so
  // the attempt there runs to the call's deadline.
  const gone = net.createServer();
  const refused = await listen(gone);
  await new Promise<void>((r) => gone.close(() => r()));
  const accepted: net.Socket[] = [];
  const silent = net.createServer((sock) => accepted.push(sock));
  const mute = await listen(silent);
  t.after(() => {
    for (const sock of accepted) sock.destroy();
    return new Promise<void>((r) => silent.close(() => r()));
  });

  const pd = PdClient.connect([`127.0.0.1:${refused}`, `127.0.0.1:${mute}`], {
    rpcTimeoutMs: 1000,
    timeoutMs: 1000,
    backoffBaseMs: 10,
    backoffMaxMs: 10,
  });
  t.after(() => pd.close());
  await assert.rejects(pd.getAllStores(), (e: Error) => {
    assert.match(e.message, /^cannot reach PD at .* \(connection refused\)$/);
    return true;
  });
});

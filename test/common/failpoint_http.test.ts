// The run-time failpoint endpoints of the HTTP status server.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { StatusServer } from '../../src/server/status_server.js';
import {
  clearFailpoints,
  failpointsActive,
  listFailpoints,
  setFailpoint,
} from '../../src/common/failpoint.js';

async function start(allowFailpoints: boolean): Promise<{ server: StatusServer; url: string }> {
  const server = new StatusServer(
    new Registry(),
    { healthy: () => true, status: () => ({}) },
    { allowFailpoints },
  );
  const port = await server.listen('127.0.0.1', 0);
  return { server, url: `http://127.0.0.1:${port}` };
}

async function call(
  url: string,
  method: string,
  body?: string,
): Promise<{ code: number; json: unknown }> {
  const res = await fetch(url, { method, ...(body !== undefined ? { body } : {}) });
  return { code: res.status, json: await res.json() };
}

describe('status port without --allow-failpoints', () => {
  let s: { server: StatusServer; url: string };
  before(async () => (s = await start(false)));
  after(async () => {
    await s.server.close();
    clearFailpoints();
  });

  test('every failpoint endpoint answers 403 and changes nothing', async () => {
    setFailpoint('apply_before', 'return');
    for (const [method, path, body] of [
      ['GET', '/failpoints', undefined],
      ['PUT', '/failpoints/apply_after', 'panic'],
      ['DELETE', '/failpoints/apply_before', undefined],
    ] as const) {
      const r = await call(s.url + path, method, body);
      assert.equal(r.code, 403, `${method} ${path}`);
      assert.match((r.json as { error: string }).error, /--allow-failpoints/);
    }
    assert.deepEqual(
      listFailpoints().map((f) => f.name),
      ['apply_before'],
    );
  });
});

describe('status port with --allow-failpoints', () => {
  let s: { server: StatusServer; url: string };
  before(async () => (s = await start(true)));
  afterEach(() => clearFailpoints());
  after(async () => await s.server.close());

  test('PUT sets, GET lists, DELETE removes', async () => {
    let r = await call(`${s.url}/failpoints/apply_before`, 'PUT', '2*return(io)');
    assert.equal(r.code, 200);
    assert.deepEqual(r.json, { name: 'apply_before', action: '2*return(io)', hits: 0, paused: 0 });
    await call(`${s.url}/failpoints/transport_drop_to_store_3`, 'PUT', '20%return');
    r = await call(`${s.url}/failpoints`, 'GET');
    assert.deepEqual(
      (r.json as { name: string; action: string }[]).map((f) => [f.name, f.action]),
      [
        ['apply_before', '2*return(io)'],
        ['transport_drop_to_store_3', '20%return'],
      ],
    );
    r = await call(`${s.url}/failpoints/apply_before`, 'DELETE');
    assert.deepEqual(r.json, { name: 'apply_before', removed: true });
    r = await call(`${s.url}/failpoints/apply_before`, 'DELETE');
    assert.deepEqual(r.json, { name: 'apply_before', removed: false });
    r = await call(`${s.url}/failpoints/transport_drop_to_store_3`, 'PUT', 'off');
    assert.equal(r.code, 200);
    assert.equal(failpointsActive(), false);
  });

  test('unknown names, bad actions, wrong methods and large bodies are refused', async () => {
    let r = await call(`${s.url}/failpoints/not_a_point`, 'PUT', 'return');
    assert.equal(r.code, 400);
    assert.match((r.json as { error: string }).error, /unknown failpoint "not_a_point"/);
    r = await call(`${s.url}/failpoints/apply_before`, 'PUT', 'explode');
    assert.equal(r.code, 400);
    r = await call(`${s.url}/failpoints/not_a_point`, 'DELETE');
    assert.equal(r.code, 400);
    r = await call(`${s.url}/failpoints`, 'PUT', 'return');
    assert.equal(r.code, 405);
    r = await call(`${s.url}/failpoints/apply_before`, 'GET');
    assert.equal(r.code, 405);
    const res = await fetch(`${s.url}/failpoints/apply_before`, {
      method: 'PUT',
      body: 'x'.repeat(10_000),
    });
    assert.equal(res.status, 413);
    assert.equal(failpointsActive(), false);
  });

  test('the other endpoints still answer', async () => {
    const res = await fetch(`${s.url}/health`);
    assert.equal(res.status, 200);
    const post = await fetch(`${s.url}/status`, { method: 'POST' });
    assert.equal(post.status, 405);
  });
});

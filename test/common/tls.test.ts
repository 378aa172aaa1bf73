// TLS options, identity names and file reloading, on real files and certificates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TlsFiles, storeIdOfCommonName, tlsOptionsFrom } from '../../src/common/tls.js';
import { plaintextWarning } from '../../src/cli/tls_flags.js';
import { TestCa } from '../../src/server/tls_certs.js';

test('TLS options: all three or none, flags before env', () => {
  assert.equal(tlsOptionsFrom({}, {}), undefined);
  assert.deepEqual(tlsOptionsFrom({ ca: 'a', cert: 'b', key: 'c' }, {}), {
    ca: 'a',
    cert: 'b',
    key: 'c',
  });
  assert.deepEqual(
    tlsOptionsFrom({ cert: 'flag' }, { NYX_CA: 'a', NYX_CERT: 'env', NYX_KEY: 'c' }),
    { ca: 'a', cert: 'flag', key: 'c' },
  );
  assert.throws(() => tlsOptionsFrom({ ca: 'a' }, {}), /needs all of --ca, --cert and --key/);
});

test('a store certificate names store-<id>; nothing else is a store', () => {
  assert.equal(storeIdOfCommonName('store-7'), 7);
  for (const cn of ['store-0', 'store-07', 'store-x', 'pd', 'client', 'store-7 ', undefined])
    assert.equal(storeIdOfCommonName(cn), undefined, String(cn));
});

test('plaintext beyond loopback is warned about; TLS or loopback is not', async () => {
  assert.equal(plaintextWarning(undefined, ['127.0.0.1:2379', 'localhost:1']), undefined);
  assert.match(plaintextWarning(undefined, ['0.0.0.0:2379'])!, /WITHOUT TLS/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-tls-'));
  try {
    const ca = await TestCa.create();
    const files = new TlsFiles({ ca: await ca.write(dir), ...(await ca.issue('pd', dir)) });
    assert.equal(plaintextWarning(files, ['0.0.0.0:2379']), undefined);
    files.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('changed files are reloaded; a mismatched pair is not taken until it matches', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-tls-'));
  try {
    const ca = await TestCa.create();
    const caFile = await ca.write(dir);
    const own = await ca.issue('store-1', dir);
    const files = new TlsFiles({ ca: caFile, ...own, refreshMs: 60_000 });
    const seen: string[] = [];
    files.onChange(() => seen.push(files.certificate.subject));
    assert.equal(files.poll(), false, 'nothing changed');
    assert.match(files.certificate.subject, /CN=store-1/);

    // A new key alone does not fit the old certificate: refused, the old pair stays.
    const next = await ca.issue('store-2', dir, 'next');
    fs.copyFileSync(next.key, own.key);
    assert.equal(files.poll(), false);
    assert.match(files.certificate.subject, /CN=store-1/);
    // With its certificate, the new pair is taken.
    fs.copyFileSync(next.cert, own.cert);
    assert.equal(files.poll(), true);
    assert.match(files.certificate.subject, /CN=store-2/);
    assert.deepEqual(seen, ['CN=store-2']);
    assert.equal(files.reloads, 1);
    files.close();

    // Missing files fail at once with the file's name.
    assert.throws(
      () => new TlsFiles({ ca: path.join(dir, 'nope.crt'), ...own }),
      /cannot read the TLS CA .*nope\.crt/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

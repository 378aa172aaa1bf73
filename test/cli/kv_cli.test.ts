// nyx kv on a real cluster (PD + 1 store, 2 Regions): the key/value encoding model end to
// end — text taken verbatim (0x… included), --hex / --base64 in and out, JSON that names
// its encoding, values from a file or stdin, binary output that cannot be mistaken for
// text, and scan --prefix.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestCluster } from '../integration/cluster.js';
import { nyx, type Run } from './nyx.js';

describe('nyx kv keys and values', () => {
  let c: TestCluster;
  let tmp: string;
  before(async () => {
    c = await TestCluster.start({ stores: 1, regions: 2 });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-kv-cli-'));
  });
  after(async () => {
    await c.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const kv = (args: string[], input?: Buffer | string): Promise<Run> =>
    nyx(['kv', ...args, '--pd', c.pd], input === undefined ? {} : { input });
  async function ok(args: string[], input?: Buffer | string): Promise<string> {
    const r = await kv(args, input);
    assert.equal(r.code, 0, `nyx kv ${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr, '');
    return r.stdout;
  }
  async function json(args: string[]): Promise<unknown> {
    return JSON.parse(await ok([...args, '--json']));
  }
  async function fails(args: string[], line: string): Promise<void> {
    const r = await kv(args);
    assert.equal(r.code, 1, r.stdout);
    assert.equal(r.stderr, `Error: ${line}\n`);
  }

  test('a text key that starts with 0x is that text; bytes are typed with --hex or --base64', async () => {
    assert.equal(await ok(['put', '0x00ff', 'as text']), 'OK\n');
    assert.equal(await ok(['put', '00ff', '0102', '--hex']), 'OK\n');
    assert.equal(await ok(['get', '0x00ff']), 'as text\n');
    assert.equal(await ok(['get', '00ff', '--hex']), '0102\n');
    assert.equal(await ok(['get', 'AP8=', '--base64']), 'AQI=\n');
    assert.equal(await ok(['get', '0x00ff', '--hex']), '0102\n', '--hex accepts a 0x prefix');
    assert.deepEqual(await json(['get', '0x00ff']), {
      key: '0x00ff',
      value: 'as text',
      found: true,
      encoding: 'utf8',
    });
    assert.deepEqual(await json(['get', '00ff', '--hex']), {
      key: '00ff',
      value: '0102',
      found: true,
      encoding: 'hex',
    });
    assert.deepEqual(await json(['get', 'missing']), {
      key: 'missing',
      value: null,
      found: false,
      encoding: 'utf8',
    });
    await fails(['get', '0xabc', '--hex'], 'key "0xabc" is an odd number of hex digits (--hex)');
    await fails(['put', 'k', 'zz', '--base64'], 'key "k" is not base64 (--base64)');
    await fails(['get', 'k', '--hex', '--base64'], '--hex and --base64 exclude each other');
  });

  test('values from a file or stdin are stored byte for byte; binary prints escaped, JSON says base64', async () => {
    const bytes = Buffer.from([0x00, 0xff, 0x41, 0x22, 0x5c]);
    const file = path.join(tmp, 'v.bin');
    fs.writeFileSync(file, bytes);
    assert.equal(await ok(['put', 'bin', '--file', file]), 'OK\n');
    assert.equal(await ok(['get', 'bin']), '"\\x00\\xffA\\"\\\\"\n');
    await fails(['get', 'bin', '--hex'], 'key "bin" is not hex (--hex)');
    assert.equal(await ok(['get', '62696e', '--hex']), bytes.toString('hex') + '\n');
    const j = (await json(['get', 'bin'])) as { key: string; value: string; encoding: string };
    assert.equal(j.encoding, 'base64');
    assert.deepEqual(Buffer.from(j.key, 'base64'), Buffer.from('bin'));
    assert.deepEqual(Buffer.from(j.value, 'base64'), bytes);

    assert.equal(await ok(['put', 'piped', '--file', '-'], 'line one\nline two\n'), 'OK\n');
    assert.equal(await ok(['get', 'piped']), '"line one\\x0aline two\\x0a"\n');
    assert.deepEqual(await json(['get', 'piped']), {
      key: 'piped',
      value: 'line one\nline two\n',
      found: true,
      encoding: 'utf8',
    });
    assert.equal(await ok(['put', 'empty', '']), 'OK\n');
    assert.equal(await ok(['get', 'empty']), '""\n', 'an empty value is visible');
    assert.equal(await ok(['put', '"quoted"', 'x']), 'OK\n');

    await fails(
      ['put', 'k', 'v', '--file', file],
      'give the value as an argument or with --file (one of them)',
    );
    await fails(['put', 'k'], 'give the value as an argument or with --file (one of them)');
    // A piped stdin is read only for --file -, never to fill in a missing argument.
    const sneaky = await kv(['put', 'sneaky'], 'from stdin');
    assert.equal(sneaky.code, 1);
    assert.equal(
      sneaky.stderr,
      'Error: give the value as an argument or with --file (one of them)\n',
    );
    assert.equal(await ok(['get', 'sneaky']), '(not found)\n');
    const missing = path.join(tmp, 'nope.bin');
    await fails(['put', 'k', '--file', missing], `cannot read ${missing} (no such file)`);
    const big = path.join(tmp, 'big.bin');
    fs.writeFileSync(big, Buffer.alloc((8 << 20) + 1));
    await fails(['put', 'k', '--file', big], `the value in ${big} is over 8388608 bytes`);
  });

  test('scan --prefix, and scan output in every encoding', async () => {
    for (const k of ['user:1', 'user:2', 'user;x', 'users', 'use']) await ok(['put', k, `v-${k}`]);
    await ok(['put', '757365723a00ff', '00', '--hex']); // "user:" + 00 ff -> 00
    const keys = (args: string[]) =>
      json(['scan', ...args]).then((r) => (r as { key: string }[]).map((p) => p.key));
    assert.deepEqual(
      await keys(['--prefix', Buffer.from('user:').toString('base64'), '--base64']),
      [
        Buffer.from('user:\x00\xff', 'latin1').toString('base64'),
        Buffer.from('user:1').toString('base64'),
        Buffer.from('user:2').toString('base64'),
      ],
    );
    assert.deepEqual(await keys(['--prefix', 'user:', '--keys-only', '--limit', '2']), [
      // "user:\0\xff" is not UTF-8: that object is base64, the others utf8.
      Buffer.from('user:\x00\xff', 'latin1').toString('base64'),
      'user:1',
    ]);
    const pairs = (await json(['scan', '--prefix', 'user'])) as {
      key: string;
      value: string;
      encoding: string;
    }[];
    assert.deepEqual(
      pairs.map((p) => Buffer.from(p.key, p.encoding as BufferEncoding).toString('latin1')),
      ['user:\x00\xff', 'user:1', 'user:2', 'user;x', 'users'],
    );
    assert.deepEqual(
      pairs.map((p) => p.encoding),
      ['base64', 'utf8', 'utf8', 'utf8', 'utf8'],
    );
    const table = await ok(['scan', '--prefix', 'user:']);
    assert.match(table, /│ "user:\\x00\\xff" │ "\\x00" +│/);
    assert.match(table, /│ user:1 +│ v-user:1 +│/);
    assert.match(table, /\n3 keys\n$/);
    assert.match(
      await ok(['scan', '--prefix', '757365723a', '--hex', '--limit', '1']),
      /│ 757365723a00ff │ 00 +│/,
    );
    assert.deepEqual(await keys(['user:', 'user;', '--reverse']), [
      'user:2',
      'user:1',
      Buffer.from('user:\x00\xff', 'latin1').toString('base64'),
    ]);
    await fails(['scan', 'a', '--prefix', 'b'], 'give start/end keys or --prefix, not both');
  });

  test('region list and show read and print keys the same way', async () => {
    const regions = JSON.parse((await nyx(['region', 'list', '--json', '--pd', c.pd])).stdout) as {
      startKey: string;
      endKey: string;
      encoding: string;
    }[];
    // Two Regions cut at one playground split key (a single character).
    assert.equal(regions.length, 2);
    assert.deepEqual(
      regions.map((r) => r.encoding),
      ['utf8', 'utf8'],
    );
    const split = regions[0]!.endKey;
    assert.equal(regions[1]!.startKey, split);
    const hex = Buffer.from(split).toString('hex');
    const shown = JSON.parse(
      (await nyx(['region', 'show', '--key', hex, '--hex', '--json', '--pd', c.pd])).stdout,
    ) as { startKey: string; endKey: string; encoding: string };
    assert.deepEqual(shown.encoding, 'hex');
    assert.equal(shown.startKey, hex, 'the Region holding the split key starts at it');
    assert.equal(shown.endKey, '');
  });
});

// host:port flags are checked when the command line is parsed (src/cli/addresses.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAddress, checkPdEndpoints } from '../../src/cli/addresses.js';

test('good dial addresses pass unchanged', () => {
  for (const a of [
    '127.0.0.1:2379',
    'localhost:2379',
    'pd-1.example.com:1',
    '[::1]:2379',
    'a:65535',
  ])
    assert.equal(checkAddress(a, 'dial'), a);
});

test('bad dial addresses are refused with the reason', () => {
  const cases: [string, RegExp][] = [
    ['localhost', /"localhost" is not host:port/],
    ['127.0.0.1:99999', /port 99999 is out of range \(1-65535\)/],
    ['127.0.0.1:0', /port 0 is out of range \(1-65535\)/],
    ['127.0.0.1:', /port must be a number/],
    ['127.0.0.1:http', /port must be a number/],
    [':2379', /has no host/],
    ['exa_mple:1', /"exa_mple" is not a valid host name/],
    ['-bad.example:1', /is not a valid host name/],
    ['1.2.3.999:1', /"1.2.3.999" is not a valid host name or IP address/],
    ['::1:2379', /bracket IPv6 hosts/],
    ['[nope]:1', /bad IPv6 address/],
  ];
  for (const [a, re] of cases) assert.throws(() => checkAddress(a, 'dial'), re, a);
});

test('listen addresses may ask for port 0 and all interfaces', () => {
  assert.equal(checkAddress('127.0.0.1:0', 'listen'), '127.0.0.1:0');
  assert.equal(checkAddress(':2379', 'listen'), ':2379');
  assert.equal(checkAddress('0.0.0.0:2379', 'listen'), '0.0.0.0:2379');
  assert.throws(() => checkAddress('0.0.0.0:65536', 'listen'), /out of range \(0-65535\)/);
});

test('--pd lists: each endpoint checked, schemes dropped, empty refused', () => {
  assert.equal(checkPdEndpoints('a:1, grpc://b:2,'), 'a:1,b:2');
  assert.throws(() => checkPdEndpoints('a:1,localhost'), /"localhost" is not host:port/);
  assert.throws(() => checkPdEndpoints(' , '), /no PD address given/);
});

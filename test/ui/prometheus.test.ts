import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrometheus } from '../../src/ui/prometheus.js';

test('samples with and without labels, comments skipped', () => {
  const s = parsePrometheus(
    [
      '# HELP nyx_x help text',
      '# TYPE nyx_x counter',
      'nyx_x 42',
      'nyx_h_bucket{le="0.005",method="RawGet"} 3',
      'nyx_h_bucket{le="+Inf",method="RawGet"} 7',
      '',
    ].join('\n'),
  );
  assert.deepEqual(s, [
    { name: 'nyx_x', labels: {}, value: 42 },
    { name: 'nyx_h_bucket', labels: { le: '0.005', method: 'RawGet' }, value: 3 },
    { name: 'nyx_h_bucket', labels: { le: '+Inf', method: 'RawGet' }, value: 7 },
  ]);
});

test('escaped label values, a timestamp, NaN as prom-client writes it, and infinities', () => {
  const s = parsePrometheus(
    'a{l="x\\"y\\\\z\\nw",m="a,b"} 1 1700000000000\nb Nan\nc +Inf\nd -Inf\ne 1.5e3',
  );
  assert.deepEqual(s[0].labels, { l: 'x"y\\z\nw', m: 'a,b' });
  assert.equal(s[0].value, 1);
  assert.ok(Number.isNaN(s[1].value));
  assert.equal(s[2].value, Infinity);
  assert.equal(s[3].value, -Infinity);
  assert.equal(s[4].value, 1500);
});

test('garbage is an error, not a silent zero', () => {
  assert.throws(() => parsePrometheus('nyx_x forty-two'), /not a sample value/);
  assert.throws(() => parsePrometheus('{} 1'), /not a Prometheus sample line/);
  assert.throws(() => parsePrometheus('a{l="x} 1'), /unterminated|bad labels/);
});

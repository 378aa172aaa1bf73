import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FailpointSpecError,
  formatFailpointSpec,
  parseFailpointList,
  parseFailpointSpec,
} from '../../src/common/failpoint_spec.js';
import { isFailpointName } from '../../src/common/failpoint_names.js';

describe('failpoint action grammar', () => {
  test('plain actions', () => {
    assert.deepEqual(parseFailpointSpec('off'), [
      { probability: 1, remaining: undefined, action: { kind: 'off' } },
    ]);
    assert.deepEqual(parseFailpointSpec('return')[0]!.action, { kind: 'return', arg: undefined });
    assert.deepEqual(parseFailpointSpec('return(disk full)')[0]!.action, {
      kind: 'return',
      arg: 'disk full',
    });
    assert.deepEqual(parseFailpointSpec('sleep(250)')[0]!.action, { kind: 'sleep', ms: 250 });
    assert.deepEqual(parseFailpointSpec('panic')[0]!.action, { kind: 'panic', msg: undefined });
    assert.deepEqual(parseFailpointSpec('panic(boom)')[0]!.action, { kind: 'panic', msg: 'boom' });
    assert.deepEqual(parseFailpointSpec(' pause ')[0]!.action, { kind: 'pause' });
    assert.deepEqual(parseFailpointSpec('print(here)')[0]!.action, { kind: 'print', msg: 'here' });
  });

  test('probability and count prefixes', () => {
    const [t] = parseFailpointSpec('20%return');
    assert.equal(t!.probability, 0.2);
    assert.equal(t!.remaining, undefined);
    const [u] = parseFailpointSpec('1*panic');
    assert.equal(u!.probability, 1);
    assert.equal(u!.remaining, 1);
    const [v] = parseFailpointSpec('12.5%3*sleep(10)');
    assert.equal(v!.probability, 0.125);
    assert.equal(v!.remaining, 3);
    assert.deepEqual(v!.action, { kind: 'sleep', ms: 10 });
  });

  test('chained alternatives, with arrows inside arguments left alone', () => {
    const terms = parseFailpointSpec('1*off->50%return(a->b)->panic');
    assert.equal(terms.length, 3);
    assert.deepEqual(terms[0]!.action, { kind: 'off' });
    assert.deepEqual(terms[1]!.action, { kind: 'return', arg: 'a->b' });
    assert.equal(terms[1]!.probability, 0.5);
    assert.deepEqual(terms[2]!.action, { kind: 'panic', msg: undefined });
  });

  test('format gives back the canonical text', () => {
    for (const s of ['return', 'return(x)', '20%return', '1*panic', '5%2*sleep(7)->pause', 'off'])
      assert.equal(formatFailpointSpec(parseFailpointSpec(s)), s);
  });

  test('bad actions are refused with the reason', () => {
    const bad: [string, RegExp][] = [
      ['', /empty/],
      ['explode', /unknown failpoint action "explode"/],
      ['sleep', /sleep needs milliseconds/],
      ['sleep(abc)', /sleep needs milliseconds/],
      ['sleep(-1)', /sleep needs milliseconds/],
      ['sleep(99999999)', /over an hour/],
      ['101%return', /not 0..100/],
      ['pause(1)', /takes no argument/],
      ['off(1)', /takes no argument/],
      ['%return', /cannot parse/],
      ['1*', /cannot parse/],
      ['return->', /cannot parse/],
    ];
    for (const [spec, why] of bad) {
      assert.throws(
        () => parseFailpointSpec(spec),
        (e: Error) => {
          assert.ok(e instanceof FailpointSpecError, spec);
          assert.match(e.message, why, spec);
          return true;
        },
      );
    }
  });
});

describe('failpoint lists (flag and environment)', () => {
  test('comma or semicolon separated, commas inside parentheses kept', () => {
    assert.deepEqual(parseFailpointList('a=return(x,y);b=1*panic, c = sleep(5)'), [
      { name: 'a', spec: 'return(x,y)' },
      { name: 'b', spec: '1*panic' },
      { name: 'c', spec: 'sleep(5)' },
    ]);
    assert.deepEqual(parseFailpointList(' ; '), []);
  });

  test('entries without = or with a bad action are refused', () => {
    assert.throws(() => parseFailpointList('apply_before'), /expected name=action/);
    assert.throws(() => parseFailpointList('=return'), /expected name=action/);
    assert.throws(() => parseFailpointList('a=return;b=nope'), /unknown failpoint action/);
  });
});

describe('failpoint names', () => {
  test('the registry and the transport patterns', () => {
    assert.ok(isFailpointName('raft_log_before_write'));
    assert.ok(isFailpointName('tso_window_persist'));
    assert.ok(isFailpointName('transport_drop_to_store_3'));
    assert.ok(isFailpointName('transport_delay_to_store_12'));
    assert.ok(!isFailpointName('raft_log_before_wirte'));
    assert.ok(!isFailpointName('transport_drop_to_store_'));
    assert.ok(!isFailpointName('transport_drop_to_store_0'));
    assert.ok(!isFailpointName('transport_drop_to_store_1x'));
  });
});

// The `nyx txn exec` script language: words, quoting, encodings and every refusal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScript, ScriptError, splitWords } from '../../../src/cli/txn_script.js';

test('bare words and JSON strings', () => {
  assert.deepEqual(splitWords('put "a b" c\\td', 1), ['put', 'a b', 'c\\td']);
  assert.deepEqual(splitWords('put "say \\"hi\\"" "tab\\there"', 1), [
    'put',
    'say "hi"',
    'tab\there',
  ]);
  assert.throws(() => splitWords('put "open', 3), /line 3: unterminated string/);
  assert.throws(() => splitWords('put a"b c', 2), /line 2: stray quote/);
});

test('a script of every operation, comments and blank lines skipped', () => {
  const ops = parseScript(
    '# transfer\n\nget a\nput a 1\ndelete b\nscan a z\nscan a z 10\ncommit\n',
    'text',
  );
  assert.deepEqual(
    ops.map((o) => [o.op, o.line]),
    [
      ['get', 3],
      ['put', 4],
      ['delete', 5],
      ['scan', 6],
      ['scan', 7],
      ['commit', 8],
    ],
  );
  const scan = ops[4]!;
  assert.ok(scan.op === 'scan');
  assert.equal(scan.limit, 10);
  assert.equal(ops[3]!.op === 'scan' && ops[3]!.limit, undefined);
});

test('--hex applies to every key and value', () => {
  const [put] = parseScript('put 00ff 0a\nrollback', 'hex');
  assert.ok(put!.op === 'put');
  assert.deepEqual([...put.key], [0, 255]);
  assert.deepEqual([...put.value], [10]);
  assert.throws(() => parseScript('get 0g\ncommit', 'hex'), /line 1: key "0g" is not hex/);
});

test('refusals name the line', () => {
  const bad: [string, RegExp][] = [
    ['put a\ncommit', /^line 1: put takes 2 argument\(s\), got 1$/],
    ['frobnicate a\ncommit', /^line 1: unknown operation "frobnicate"/],
    ['scan a z 0\ncommit', /^line 1: scan limit "0" is not a positive integer$/],
    ['commit now', /^line 1: commit takes 0 argument\(s\), got 1$/],
    ['commit\nget a', /^line 2: nothing may follow commit$/],
    ['get a', /^the script must end with commit or rollback$/],
    ['# only a comment', /^the script must end with commit or rollback$/],
  ];
  for (const [script, want] of bad) {
    assert.throws(
      () => parseScript(script, 'text'),
      (e: unknown) => e instanceof ScriptError && want.test(e.message),
      script,
    );
  }
});

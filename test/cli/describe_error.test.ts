// The one line a failing command prints (describeError in src/cli/base_command.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeError } from '../../src/cli/base_command.js';
import { PdUnavailableError } from '../../src/client/pd_errors.js';
import { PdError } from '../../src/client/errors.js';

test('oclif multi-line errors become one line without doubled punctuation', () => {
  assert.equal(
    describeError(
      new Error('Missing 1 required arg:\nkey  the key (text)\nSee more help with --help'),
    ),
    'Missing 1 required arg: key',
  );
  assert.equal(
    describeError(
      new Error('Parsing --pd \n\t"localhost" is not host:port\nSee more help with --help'),
    ),
    '--pd: "localhost" is not host:port',
  );
  assert.equal(describeError(new Error('first line.\nsecond line.')), 'first line: second line');
  assert.equal(describeError(new Error('ends in dots...')), 'ends in dots...');
  for (const msg of ['a:\nb', 'x.\ny', 'p\nq.'])
    assert.doesNotMatch(describeError(new Error(msg)), /[:.]{2}|\.$|:$/);
});

test('PD unreachable anywhere in the cause chain is the line, in its own words', () => {
  const root = new PdUnavailableError('127.0.0.1:1', 'connection refused');
  const wrapped = new PdError(`PD lookup failed: ${root.message}`, { cause: root });
  assert.equal(describeError(wrapped), 'cannot reach PD at 127.0.0.1:1 (connection refused)');
});

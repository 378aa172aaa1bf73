// The package root: the SDK's names directly, the namespaces as before, and the LICENSE
// that package.json names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as nyx from '../../src/index.js';
import { ROOT } from './nyx.js';

test('the package root exports the SDK names directly and keeps its namespaces', () => {
  assert.equal(typeof nyx.createRawClient, 'function');
  assert.equal(nyx.createRawClient, nyx.client.createRawClient);
  assert.equal(nyx.RawClient, nyx.client.RawClient);
  assert.equal(nyx.PdClient, nyx.client.PdClient);
  assert.ok(new nyx.InvalidArgumentError('x') instanceof nyx.NyxError);
  assert.equal(typeof nyx.raft, 'object');
});

test('LICENSE is the Apache License 2.0 that package.json declares', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    license: string;
  };
  assert.equal(pkg.license, 'Apache-2.0');
  const text = fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8');
  assert.match(text, /Apache License\s+Version 2\.0, January 2004/);
  assert.match(text, /END OF TERMS AND CONDITIONS/);
});

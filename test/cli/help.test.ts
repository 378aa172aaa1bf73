// The CLI's oclif conventions: help by topic, -h, a printed "did you mean" with a
// non-zero exit for a mistyped command, shell completion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { editDistance, suggestCommands } from '../../src/cli/hooks/command_not_found.js';
import { nyx } from './nyx.js';

test('suggestions rank by edit distance and drop ids that are far off', () => {
  assert.equal(editDistance('kv:pt', 'kv:put'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('regoin:list', 'region:list'), 2);
  const ids = ['kv:get', 'kv:put', 'kv:scan', 'region:list', 'store:list', 'playground'];
  assert.deepEqual(suggestCommands('kv:pt', ids).slice(0, 2), ['kv:put', 'kv:get']);
  assert.equal(suggestCommands('regoin:list', ids)[0], 'region:list');
  assert.deepEqual(suggestCommands('zzzzzzzzzzzz', ids), []);
});

test('a mistyped command prints what was meant on one line and exits 127', async () => {
  const r = await nyx(['kv', 'pt', 'a', 'b']);
  assert.equal(r.code, 127);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^Error: "kv pt a b" is not a nyx command\. Did you mean "nyx kv put"/);
  assert.match(r.stderr, /Run "nyx help kv" for the list\.\n$/);
  assert.equal(r.stderr.split('\n').length, 2, r.stderr);

  const far = await nyx(['frobnicate']);
  assert.equal(far.code, 127);
  assert.equal(
    far.stderr,
    'Error: "frobnicate" is not a nyx command. Run "nyx help" for the list.\n',
  );
});

test('help lists topics with their own descriptions; a topic and -h show their commands', async () => {
  const all = await nyx(['help']);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /TOPICS/);
  assert.match(all.stdout, /kv\s+Raw key-value reads and writes/);
  assert.match(all.stdout, /txn\s+Snapshot-isolation transactions/);

  const topic = await nyx(['help', 'kv']);
  assert.equal(topic.code, 0, topic.stderr);
  assert.match(topic.stdout, /kv put\s+Write a key/);
  assert.match(topic.stdout, /kv scan/);

  const short = await nyx(['kv', 'put', '-h']);
  assert.equal(short.code, 0, short.stderr);
  assert.match(short.stdout, /USAGE\n\s+\$ nyx kv put/);
  assert.match(short.stdout, /--pd/);
});

test('shell completion: a bash script that completes nyx commands', async () => {
  // The plugin caches the command list under XDG cache; keep it out of the user's home.
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-ac-'));
  try {
    const env = { XDG_CACHE_HOME: cache };
    const setupRun = await nyx(['autocomplete', 'bash'], { env });
    assert.equal(setupRun.code, 0, setupRun.stderr);
    assert.match(setupRun.stdout, /nyx autocomplete script bash/);
    const r = await nyx(['autocomplete', 'script', 'bash'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /NYX_AC_BASH_SETUP_PATH/);
    const setup = /NYX_AC_BASH_SETUP_PATH=([^\s;&"]+)/.exec(r.stdout)?.[1];
    assert.ok(setup && fs.existsSync(setup), r.stdout);
    // Complete "nyx kv p" the way bash would, with the generated function.
    const done = spawnSync(
      'bash',
      [
        '-c',
        `source ${setup}; COMP_WORDS=(nyx kv p); COMP_CWORD=2; _nyx_autocomplete; echo "\${COMPREPLY[@]}"`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(done.status, 0, done.stderr);
    assert.equal(done.stdout.trim(), 'put');
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
});

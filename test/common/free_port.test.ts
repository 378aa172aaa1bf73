import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CLAIM_DIR, claimPort, freePortRange } from '../../src/common/free_port.js';

const claimFile = (port: number) => path.join(CLAIM_DIR, String(port));

test('a range handed out is free to listen on and claimed by this process', async () => {
  const base = await freePortRange(3);
  for (let p = base; p < base + 3; p++) {
    assert.equal(fs.readFileSync(claimFile(p), 'utf8'), String(process.pid));
    // Never handed out twice by this process.
    assert.equal(claimPort(p), false);
  }
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(base + 1, '127.0.0.1', r));
  await new Promise((r) => srv.close(r));
});

test('a port a live process claimed is not taken; a dead process claim is', async (t) => {
  // A live holder: a child that sleeps until the test ends.
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  t.after(() => child.kill('SIGKILL'));
  const base = await freePortRange(2);
  const [live, dead] = [base + 1000, base + 1001];
  fs.mkdirSync(CLAIM_DIR, { recursive: true });
  fs.writeFileSync(claimFile(live), String(child.pid));
  t.after(() => fs.rmSync(claimFile(live), { force: true }));
  assert.equal(claimPort(live), false);
  assert.equal(fs.readFileSync(claimFile(live), 'utf8'), String(child.pid));

  // A holder that exited: its claim is taken over.
  const gone = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => gone.once('exit', r));
  fs.writeFileSync(claimFile(dead), String(gone.pid));
  assert.equal(claimPort(dead), true);
  assert.equal(fs.readFileSync(claimFile(dead), 'utf8'), String(process.pid));
});

test('claims are released when the process exits', async () => {
  const script = `
    import { freePortRange } from ${JSON.stringify(path.resolve('dist/src/common/free_port.js'))};
    console.log(await freePortRange(2));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise((r) => child.once('exit', r));
  assert.equal(code, 0);
  const base = Number(out.trim());
  assert.ok(base > 0, `child printed ${out}`);
  assert.equal(fs.existsSync(claimFile(base)), false);
  assert.equal(fs.existsSync(claimFile(base + 1)), false);
});

import fs from 'node:fs';
import { Args } from '@oclif/core';
import { displayBytes, encodingOf } from '../../cli/encoding.js';
import { encodingFlags } from '../../cli/flags.js';
import { kvJson } from '../../cli/kv_json.js';
import { TxnCommand } from '../../cli/txn_command.js';
import { parseScript, ScriptError, type ScriptOp } from '../../cli/txn_script.js';
import { readValueSource } from '../../cli/value_source.js';

const MAX_SCRIPT_BYTES = 16 << 20;

export default class TxnExec extends TxnCommand<typeof TxnExec> {
  static override description = `Run a whole transaction from a file or stdin, one operation a line:
  get K | put K V | delete K | scan START END [LIMIT] | commit | rollback
Blank lines and # comments are skipped; a word with spaces is a JSON string ("a b"). The
script must end with commit or rollback. Each get prints the value (nothing for a missing
key), each scan its pairs, commit the commit timestamp. A write conflict exits 1 with one
line that says "conflict" and names the key; nothing of the transaction is then written.`;
  static override examples = [
    '<%= config.bin %> txn exec transfer.txt',
    'printf "get a\\nput a 1\\ncommit\\n" | <%= config.bin %> txn exec',
    '<%= config.bin %> txn exec script.txt --json',
  ];
  static override args = {
    file: Args.string({
      ignoreStdin: true,
      description: 'the script; "-" or none: stdin',
    }),
  };
  static override flags = { ...encodingFlags };

  async run(): Promise<void> {
    const enc = encodingOf(this.flags);
    const source = this.args.file ?? '-';
    if (source !== '-' && !fs.existsSync(source)) this.fail(`cannot read ${source} (no such file)`);
    const text = (await readValueSource(source, MAX_SCRIPT_BYTES)).toString('utf8');
    let ops: ScriptOp[];
    try {
      ops = parseScript(text, enc);
    } catch (e) {
      if (e instanceof ScriptError) this.fail(e.message);
      throw e;
    }
    await this.ready();
    const txn = await this.txnClient().begin();
    const results: unknown[] = [];
    const say = (line: string): void => {
      if (!this.json) process.stdout.write(line + '\n');
    };
    try {
      for (const op of ops) {
        switch (op.op) {
          case 'get': {
            const v = await txn.get(op.key);
            results.push({
              op: 'get',
              ...kvJson(op.key, v ?? null, enc, { found: v !== undefined }),
            });
            if (v !== undefined) say(displayBytes(v, enc));
            break;
          }
          case 'put':
            await txn.put(op.key, op.value);
            results.push({ op: 'put', ...kvJson(op.key, op.value, enc) });
            break;
          case 'delete':
            await txn.delete(op.key);
            results.push({ op: 'delete', ...kvJson(op.key, undefined, enc) });
            break;
          case 'scan': {
            const pairs = await txn.scan(op.start, op.end, { limit: op.limit });
            results.push({ op: 'scan', pairs: pairs.map((p) => kvJson(p.key, p.value, enc)) });
            for (const p of pairs)
              say(`${displayBytes(p.key, enc)}\t${displayBytes(p.value, enc)}`);
            break;
          }
          case 'commit': {
            const ts = await txn.commit();
            results.push({ op: 'commit', commitTs: ts.toString() });
            say(ts.toString());
            break;
          }
          case 'rollback':
            await txn.rollback();
            results.push({ op: 'rollback' });
            say('rolled back');
            break;
        }
      }
    } catch (e) {
      if (txn.state === 'active') await txn.rollback().catch(() => {});
      throw e;
    }
    if (this.json) {
      this.output(
        {
          startTs: txn.startTs.toString(),
          committed: txn.state === 'committed',
          commitTs: txn.commitTs?.toString() ?? null,
          results,
        },
        () => '',
      );
    }
  }
}

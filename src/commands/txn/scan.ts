import { Args, Flags } from '@oclif/core';
import { decodeArg, displayBytes, encodingOf, prefixEnd } from '../../cli/encoding.js';
import { encodingFlags } from '../../cli/flags.js';
import { kvJson } from '../../cli/kv_json.js';
import { renderTable } from '../../cli/output.js';
import { TxnCommand } from '../../cli/txn_command.js';
import { txnFlag } from '../../cli/txn_flags.js';

export default class TxnScan extends TxnCommand<typeof TxnScan> {
  static override description =
    'List keys in [start, end) (or with a prefix) inside a transaction: its snapshot plus its own writes.';
  static override examples = [
    '<%= config.bin %> txn scan balance: balance; --txn $TXN',
    '<%= config.bin %> txn scan --prefix balance: --txn $TXN --json',
  ];
  static override args = {
    start: Args.string({ ignoreStdin: true, description: 'first key (inclusive)' }),
    end: Args.string({ ignoreStdin: true, description: 'end key (exclusive); default: the end' }),
  };
  static override flags = {
    ...encodingFlags,
    txn: txnFlag,
    prefix: Flags.string({ description: 'only the keys that start with this' }),
    limit: Flags.integer({
      description: 'at most this many pairs',
      default: 100,
      min: 1,
      max: 100_000,
    }),
    'keys-only': Flags.boolean({ description: 'do not fetch values', default: false }),
  };

  async run(): Promise<void> {
    const enc = encodingOf(this.flags);
    const { prefix } = this.flags;
    if (prefix !== undefined && (this.args.start !== undefined || this.args.end !== undefined))
      this.fail('give start/end keys or --prefix, not both');
    let start: Buffer;
    let end: Buffer;
    if (prefix !== undefined) {
      start = decodeArg(prefix, enc, 'prefix');
      end = prefixEnd(start);
    } else {
      start =
        this.args.start === undefined
          ? Buffer.alloc(0)
          : decodeArg(this.args.start, enc, 'start key');
      end =
        this.args.end === undefined ? Buffer.alloc(0) : decodeArg(this.args.end, enc, 'end key');
    }
    const keysOnly = this.flags['keys-only'];
    await this.ready();
    const pairs = await this.host().scan(this.flags.txn, start, end, {
      limit: this.flags.limit,
      keyOnly: keysOnly,
    });
    this.output(
      pairs.map((p) => kvJson(p.key, keysOnly ? undefined : p.value, enc)),
      () =>
        pairs.length === 0
          ? '(no keys)'
          : renderTable(
              keysOnly ? ['key'] : ['key', 'value'],
              pairs.map((p) =>
                keysOnly
                  ? [displayBytes(p.key, enc)]
                  : [displayBytes(p.key, enc), displayBytes(p.value, enc)],
              ),
            ) + `\n${pairs.length} key${pairs.length === 1 ? '' : 's'}`,
    );
  }
}

import { Args, Flags } from '@oclif/core';
import { encodingOf } from '../../cli/encoding.js';
import { encodingFlags } from '../../cli/flags.js';
import { scanJson, scanRange, scanTable } from '../../cli/scan_args.js';
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
    const range = scanRange(this.args, this.flags.prefix, enc);
    if (typeof range === 'string') this.fail(range);
    const keysOnly = this.flags['keys-only'];
    await this.ready();
    const pairs = await this.host().scan(
      this.flags.txn,
      range.start,
      range.end ?? Buffer.alloc(0),
      {
        limit: this.flags.limit,
        keyOnly: keysOnly,
      },
    );
    this.output(scanJson(pairs, keysOnly, enc), () => scanTable(pairs, keysOnly, enc));
  }
}

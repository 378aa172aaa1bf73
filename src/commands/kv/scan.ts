import { Args, Flags } from '@oclif/core';
import { KvCommand } from '../../cli/kv_command.js';
import { encodingOf } from '../../cli/encoding.js';
import { encodingFlags } from '../../cli/flags.js';
import { scanJson, scanRange, scanTable } from '../../cli/scan_args.js';

export default class KvScan extends KvCommand<typeof KvScan> {
  static override description =
    'List keys in [start, end), or the keys with a prefix, in key order, across Regions.';
  static override examples = [
    '<%= config.bin %> kv scan',
    '<%= config.bin %> kv scan user: user; --limit 20',
    '<%= config.bin %> kv scan --prefix user:',
    '<%= config.bin %> kv scan a z --reverse --keys-only --json',
    '<%= config.bin %> kv scan --prefix 00 --hex',
  ];
  static override args = {
    start: Args.string({
      ignoreStdin: true,
      description: 'first key (inclusive); default: the beginning',
    }),
    end: Args.string({
      ignoreStdin: true,
      description: 'end key (exclusive); default: the end',
    }),
  };
  static override flags = {
    ...encodingFlags,
    prefix: Flags.string({
      description: 'only the keys that start with this (instead of start/end)',
    }),
    limit: Flags.integer({
      description: 'at most this many pairs',
      default: 100,
      min: 1,
      max: 100_000,
    }),
    reverse: Flags.boolean({ description: 'from the end of the range down', default: false }),
    'keys-only': Flags.boolean({ description: 'do not fetch values', default: false }),
  };

  async run(): Promise<void> {
    const enc = encodingOf(this.flags);
    const range = scanRange(this.args, this.flags.prefix, enc);
    if (typeof range === 'string') this.fail(range);
    const keysOnly = this.flags['keys-only'];
    const pairs = await this.call((raw) =>
      raw.scan(range.start, range.end, {
        limit: this.flags.limit,
        reverse: this.flags.reverse,
        keyOnly: keysOnly,
      }),
    );
    this.output(scanJson(pairs, keysOnly, enc), () => scanTable(pairs, keysOnly, enc));
  }
}

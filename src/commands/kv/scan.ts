import { Args, Flags } from '@oclif/core';
import { KvCommand } from '../../cli/kv_command.js';
import { decodeArg, displayBytes, encodingOf, prefixEnd } from '../../cli/encoding.js';
import { encodingFlags } from '../../cli/flags.js';
import { kvJson } from '../../cli/kv_json.js';
import { renderTable } from '../../cli/output.js';

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
    const { prefix } = this.flags;
    if (prefix !== undefined && (this.args.start !== undefined || this.args.end !== undefined))
      this.fail('give start/end keys or --prefix, not both');
    let start: Buffer;
    let end: Buffer | undefined;
    if (prefix !== undefined) {
      start = decodeArg(prefix, enc, 'prefix');
      end = prefixEnd(start);
    } else {
      start =
        this.args.start === undefined
          ? Buffer.alloc(0)
          : decodeArg(this.args.start, enc, 'start key');
      end = this.args.end === undefined ? undefined : decodeArg(this.args.end, enc, 'end key');
    }
    const keysOnly = this.flags['keys-only'];
    const pairs = await this.call((raw) =>
      raw.scan(start, end, {
        limit: this.flags.limit,
        reverse: this.flags.reverse,
        keyOnly: keysOnly,
      }),
    );
    this.output(
      pairs.map((p) => kvJson(p.key, keysOnly ? undefined : (p.value ?? Buffer.alloc(0)), enc)),
      () =>
        pairs.length === 0
          ? '(no keys)'
          : renderTable(
              keysOnly ? ['key'] : ['key', 'value'],
              pairs.map((p) =>
                keysOnly
                  ? [displayBytes(p.key, enc)]
                  : [displayBytes(p.key, enc), displayBytes(p.value ?? Buffer.alloc(0), enc)],
              ),
            ) + `\n${pairs.length} key${pairs.length === 1 ? '' : 's'}`,
    );
  }
}

import { Args, Flags } from '@oclif/core';
import { KvCommand } from '../../cli/kv_command.js';
import { parseKey } from '../../cli/keys.js';
import { renderTable } from '../../cli/output.js';
import { formatKey } from '../../region/meta.js';

export default class KvScan extends KvCommand<typeof KvScan> {
  static override description = 'List keys in [start, end) in key order, across Regions.';
  static override examples = [
    '<%= config.bin %> kv scan',
    '<%= config.bin %> kv scan user: user; --limit 20',
    '<%= config.bin %> kv scan a z --reverse --keys-only --json',
  ];
  static override args = {
    start: Args.string({
      description: 'first key (inclusive); default: the beginning',
      default: '',
    }),
    end: Args.string({ description: 'end key (exclusive); default: the end' }),
  };
  static override flags = {
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
    const start = parseKey(this.args.start ?? '');
    const end = this.args.end === undefined ? undefined : parseKey(this.args.end);
    const pairs = await this.raw().scan(start, end, {
      limit: this.flags.limit,
      reverse: this.flags.reverse,
      keyOnly: this.flags['keys-only'],
    });
    const keysOnly = this.flags['keys-only'];
    this.output(
      pairs.map((p) => (keysOnly ? { key: p.key } : { key: p.key, value: p.value })),
      () =>
        pairs.length === 0
          ? '(no keys)'
          : renderTable(
              keysOnly ? ['key'] : ['key', 'value'],
              pairs.map((p) =>
                keysOnly
                  ? [formatKey(p.key)]
                  : [formatKey(p.key), formatKey(p.value ?? Buffer.alloc(0))],
              ),
            ) + `\n${pairs.length} key${pairs.length === 1 ? '' : 's'}`,
    );
  }
}

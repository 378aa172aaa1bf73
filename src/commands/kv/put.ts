import { Args, Flags } from '@oclif/core';
import { KvCommand } from '../../cli/kv_command.js';
import { decodeArg, encodingOf } from '../../cli/encoding.js';
import { encodingFlags } from '../../cli/flags.js';
import { kvJson } from '../../cli/kv_json.js';
import { readValueSource } from '../../cli/value_source.js';

export default class KvPut extends KvCommand<typeof KvPut> {
  static override description = `Write a key; returns once the write is replicated and applied.
Key and value are text unless --hex or --base64 is given; --file reads the value byte for byte from a file, or from stdin with "-".`;
  static override examples = [
    '<%= config.bin %> kv put hello world',
    '<%= config.bin %> kv put 00ff 0102 --hex',
    '<%= config.bin %> kv put photo --file photo.jpg',
    'echo -n hi | <%= config.bin %> kv put greeting --file -',
  ];
  // ignoreStdin on every argument: oclif would otherwise fill a missing argument from a
  // piped stdin (trimmed), silently — and stdin belongs to --file -.
  static override args = {
    key: Args.string({
      ignoreStdin: true,
      description: 'the key (text; hex with --hex, base64 with --base64)',
      required: true,
    }),
    value: Args.string({
      ignoreStdin: true,
      description: 'the value, encoded like the key (or use --file)',
    }),
  };
  static override flags = {
    ...encodingFlags,
    file: Flags.string({
      char: 'f',
      description: 'read the value from this file, or from stdin for "-" (the bytes as they are)',
      helpValue: 'path|-',
    }),
  };

  async run(): Promise<void> {
    const enc = encodingOf(this.flags);
    const key = decodeArg(this.args.key, enc, 'key');
    const { value: arg } = this.args;
    const { file } = this.flags;
    if ((arg === undefined) === (file === undefined))
      this.fail('give the value as an argument or with --file (one of them)');
    const value = file !== undefined ? await readValueSource(file) : decodeArg(arg!, enc, 'value');
    await this.call((raw) => raw.put(key, value));
    this.output(kvJson(key, undefined, enc, { ok: true }), () => 'OK');
  }
}

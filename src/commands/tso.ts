import { Flags } from '@oclif/core';
import { PdCommand } from '../cli/base_command.js';
import { renderFields } from '../cli/output.js';
import { describeTs, parseTs } from '../pd/timestamp.js';

const MAX_TS = (1n << 64n) - 1n;

export default class Tso extends PdCommand<typeof Tso> {
  static override summary = 'Get a timestamp from PD and show it decoded';
  static override description =
    'A TSO timestamp is physical_ms << 18 | logical. With --decode, splits a given timestamp without asking PD.';

  static override examples = [
    '<%= config.bin %> tso',
    '<%= config.bin %> tso --pd 10.0.0.5:2379 --json',
    '<%= config.bin %> tso --decode 449553337008472065',
  ];

  static override flags = {
    decode: Flags.string({
      description: 'decode this timestamp (decimal or 0x hex) instead of asking PD',
      helpValue: 'ts',
    }),
  };

  async run(): Promise<void> {
    const ts =
      this.flags.decode !== undefined
        ? this.parse64(this.flags.decode)
        : await this.pd().getTimestamp();
    const d = describeTs(ts);
    this.output(d, () =>
      renderFields([
        ['ts', d.ts],
        ['physical (ms)', d.physical],
        ['time (UTC)', d.time],
        ['logical', d.logical],
      ]),
    );
  }

  private parse64(s: string): bigint {
    let ts: bigint;
    try {
      ts = parseTs(s);
    } catch {
      this.fail(`not a timestamp: ${JSON.stringify(s)} (want a decimal or 0x hex integer)`);
    }
    if (ts > MAX_TS) this.fail(`not a timestamp: ${s} does not fit in 64 bits`);
    return ts;
  }
}

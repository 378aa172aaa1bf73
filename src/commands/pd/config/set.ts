import { Args } from '@oclif/core';
import { PdCommand } from '../../../cli/base_command.js';

export default class PdConfigSet extends PdCommand<typeof PdConfigSet> {
  static override description =
    'Change one PD setting. Durations as 10s, 30m, 1h30m; sizes as 64MiB, 1GiB; counts as numbers. ' +
    'Persisted by PD at once; stores receive it with their next heartbeat (within seconds).';
  static override examples = [
    '<%= config.bin %> pd config set max-store-down-time 10s',
    '<%= config.bin %> pd config set region-split-size 64MiB',
    '<%= config.bin %> pd config set max-replicas 5 --json',
  ];
  static override args = {
    name: Args.string({
      description: 'the setting (nyx pd config show lists them)',
      required: true,
    }),
    value: Args.string({ description: 'its new value', required: true }),
  };

  async run(): Promise<void> {
    const { old, now, version } = await this.pd().setConfig(this.args.name, this.args.value);
    this.output({ name: now.name, old: old.value, value: now.value, version }, () =>
      old.value === now.value
        ? `${now.name} is already ${now.value}`
        : `${now.name}: ${old.value} -> ${now.value}`,
    );
  }
}

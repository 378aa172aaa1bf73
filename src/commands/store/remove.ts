import { Args } from '@oclif/core';
import { PdCommand } from '../../cli/base_command.js';

export default class StoreRemove extends PdCommand<typeof StoreRemove> {
  static override description =
    'Take a store out of the cluster: it becomes Offline, PD moves every replica off it, ' +
    'and once it holds none it becomes a Tombstone (its id is never reused, its heartbeats ' +
    'are refused). Refused when the stores left Up could not hold max-replicas replicas. ' +
    'Follow the drain with `nyx store list`.';
  static override examples = ['<%= config.bin %> store remove 4'];
  static override args = {
    id: Args.integer({ description: 'store id', required: true, min: 1 }),
  };

  async run(): Promise<void> {
    const s = await this.pd().removeStore(this.args.id);
    const info = await this.pd().getStoreInfo(s.id);
    const regions = info?.stats?.regionCount ?? null;
    this.output({ id: s.id, state: s.state, regions }, () =>
      s.state === 'Tombstone'
        ? `store ${s.id} held no replica: it is now a Tombstone`
        : `store ${s.id} is ${s.state}: PD is moving its ${regions ?? 'unknown number of'} replica(s) ` +
          `to other stores; it becomes a Tombstone once it holds none`,
    );
  }
}

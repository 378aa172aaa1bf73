import { Args } from '@oclif/core';
import { PdCommand } from '../../../cli/base_command.js';
import { operatorDetails } from '../../../cli/operators.js';

export default class OperatorAddRemovePeer extends PdCommand<typeof OperatorAddRemovePeer> {
  static override description =
    "Remove a Region's replica from a store (leadership moves away first if it leads).";
  static override examples = ['<%= config.bin %> operator add remove-peer 4 2'];
  static override args = {
    region: Args.integer({ ignoreStdin: true, description: 'Region id', required: true }),
    store: Args.integer({ ignoreStdin: true, description: 'store id', required: true }),
  };

  async run(): Promise<void> {
    const op = await this.pd().addOperator(this.args.region, 'remove-peer', [this.args.store]);
    this.output(op, () => operatorDetails(op));
  }
}

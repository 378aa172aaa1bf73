import { Args } from '@oclif/core';
import { PdCommand } from '../../../cli/base_command.js';
import { operatorDetails } from '../../../cli/operators.js';

export default class OperatorAddAddPeer extends PdCommand<typeof OperatorAddAddPeer> {
  static override description =
    'Add a voter of a Region on a store: it joins as a learner, catches up by snapshot, then is promoted.';
  static override examples = ['<%= config.bin %> operator add add-peer 4 5'];
  static override args = {
    region: Args.integer({ ignoreStdin: true, description: 'Region id', required: true }),
    store: Args.integer({ ignoreStdin: true, description: 'store id', required: true }),
  };

  async run(): Promise<void> {
    const op = await this.pd().addOperator(this.args.region, 'add-peer', [this.args.store]);
    this.output(op, () => operatorDetails(op));
  }
}

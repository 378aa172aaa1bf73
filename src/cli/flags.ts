// Flag definitions every nyx command shares, so they read and default the same way
// everywhere: --pd (env NYX_PD) and --json.
import { Flags } from '@oclif/core';
import { DEFAULT_PD_ENDPOINT } from '../client/pd_client.js';

export const pdFlag = Flags.string({
  description: 'PD address(es), host:port, comma-separated',
  env: 'NYX_PD',
  default: DEFAULT_PD_ENDPOINT,
  helpValue: 'host:port',
});

export const jsonFlag = Flags.boolean({
  description: 'print JSON instead of a table (for scripts)',
  default: false,
});

// Base of the commands that read and write data: a RawClient over the command's PD client.
import { Command } from '@oclif/core';
import { createRawClient } from '../client/create_client.js';
import type { RawClient } from '../client/raw_client.js';
import { PdCommand } from './base_command.js';

export abstract class KvCommand<T extends typeof Command> extends PdCommand<T> {
  private rawClient: RawClient | undefined;

  /** A RawClient over --pd; a person waits, so calls give up after 10 s. */
  protected raw(): RawClient {
    this.rawClient ??= createRawClient({ pd: this.pd(), timeoutMs: 10_000 });
    return this.rawClient;
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    this.rawClient?.close();
    return super.finally(err);
  }
}

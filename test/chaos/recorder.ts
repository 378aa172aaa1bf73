// Records a RawKV history around the SDK: each call's invocation and completion time
// (monotonic, in ms since the recorder was created — the run's clock), its input, and its outcome — a definite output,
// an indeterminate write (return time +Infinity), or a failed read (dropped). A logical
// client ("process" in Jepsen's terms) that saw an indeterminate write continues under
// a new client id, because its old identity still has an operation that never returned.
import { performance } from 'node:perf_hooks';
import type { RawClient } from '../../src/client/raw_client.js';
import type { KvInput, KvOperation, KvOutput, Value } from '../check/history.js';
import { classifyFailedWrite, describeError, isExpectedFaultError } from './outcome.js';

export interface RecorderStats {
  ok: number;
  indeterminate: number;
  failedReads: number;
  notApplied: number;
  /** Error name → count, for errors no fault explains (reported, not fatal). */
  unexpected: Map<string, number>;
}

export class HistoryRecorder {
  readonly ops: KvOperation[] = [];
  readonly stats: RecorderStats = {
    ok: 0,
    indeterminate: 0,
    failedReads: 0,
    notApplied: 0,
    unexpected: new Map(),
  };
  private nextId = 0;
  private nextClient = 0;

  constructor(private readonly t0 = performance.now()) {}

  private now(): number {
    return performance.now() - this.t0;
  }

  /** A fresh logical client id. */
  newClient(): number {
    return this.nextClient++;
  }

  /**
   * Runs one operation and records it. Returns the output, or undefined when the call
   * failed; `client` must not have another operation in flight.
   */
  async invoke(client: number, kv: RawClient, input: KvInput): Promise<KvOutput | undefined> {
    const call = this.now();
    try {
      const output = await execute(kv, input);
      this.ops.push({ id: this.nextId++, client, input, output, call, ret: this.now() });
      this.stats.ok++;
      return output;
    } catch (e) {
      if (!isExpectedFaultError(e)) {
        const name = e instanceof Error ? e.name : typeof e;
        this.stats.unexpected.set(name, (this.stats.unexpected.get(name) ?? 0) + 1);
      }
      if (input.f === 'get') {
        this.stats.failedReads++;
      } else if (classifyFailedWrite(e) === 'not-applied') {
        this.stats.notApplied++;
      } else {
        this.ops.push({
          id: this.nextId++,
          client,
          input,
          output: undefined,
          call,
          ret: Infinity,
          error: describeError(e),
        });
        this.stats.indeterminate++;
      }
      return undefined;
    }
  }
}

const str = (b: Buffer | undefined): Value => (b === undefined ? null : b.toString('utf8'));

async function execute(kv: RawClient, input: KvInput): Promise<KvOutput> {
  switch (input.f) {
    case 'get':
      return { f: 'get', value: str(await kv.get(input.key)) };
    case 'put':
      await kv.put(input.key, input.value);
      return { f: 'put' };
    case 'delete':
      await kv.delete(input.key);
      return { f: 'delete' };
    case 'cas': {
      const r = await kv.compareAndSwap(input.key, input.expected, input.value);
      return { f: 'cas', succeeded: r.succeeded, previous: str(r.previous) };
    }
  }
}

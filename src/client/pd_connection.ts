// The gRPC channels to the PD endpoints. Channels are created lazily on first use, one
// per endpoint; a caller that sees the current endpoint fail moves on to the next one.
// Reconnect backoff and keepalive are tuned for a PD that restarts: the channel retries
// within a second, and a dead PD under a long-lived stream is noticed within seconds.
import * as grpc from '@grpc/grpc-js';
import { loadNyxProto, type PDClient } from '../proto/load.js';

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
};

export function normalizeEndpoints(endpoints: string | string[]): string[] {
  const list = (Array.isArray(endpoints) ? endpoints : [endpoints])
    .flatMap((e) => e.split(','))
    .map((e) => e.trim().replace(/^(grpc|https?):\/\//, ''))
    .filter((e) => e.length > 0);
  if (list.length === 0) throw new RangeError('no PD endpoint given');
  return [...new Set(list)];
}

export class PdConnection {
  private readonly clients = new Map<string, PDClient>();
  private index = 0;
  private closed = false;

  constructor(
    readonly endpoints: string[],
    private readonly credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  ) {}

  /** The endpoint to use now and its client. */
  current(): { address: string; client: PDClient } {
    if (this.closed) throw new Error('PD connection is closed');
    const address = this.endpoints[this.index]!;
    let client = this.clients.get(address);
    if (!client) {
      const { nyx } = loadNyxProto();
      client = new nyx.pd.PD(address, this.credentials, CHANNEL_OPTIONS);
      this.clients.set(address, client);
    }
    return { address, client };
  }

  /** The current endpoint failed: the next call goes to the next one (if there are more). */
  rotate(failed: string): void {
    if (this.endpoints[this.index] === failed) {
      this.index = (this.index + 1) % this.endpoints.length;
    }
  }

  get description(): string {
    return this.endpoints.join(', ');
  }

  close(): void {
    this.closed = true;
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

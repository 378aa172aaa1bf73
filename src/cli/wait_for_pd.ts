// A store started before its PD (or pointed at a wrong address) waits for PD in plain
// sight: it says what it is waiting for and why, repeats that while the reason holds, and
// gives up after a deadline with the same words — never a silent hang.
import type * as grpc from '@grpc/grpc-js';
import { PdClient } from '../client/pd_client.js';
import { PdUnavailableError } from '../client/pd_errors.js';

export interface WaitForPdOptions {
  /** Give up after this long; 0 waits forever. */
  timeoutMs: number;
  /** Called with a line for people: the first failure, a changed reason, then every so often. */
  report: (line: string) => void;
  /** How long one probe may take. */
  probeTimeoutMs?: number;
  /** Pause between probes. */
  retryMs?: number;
  /** Repeat an unchanged reason this often. */
  repeatMs?: number;
  /** Channel credentials of the probes (mutual TLS). */
  credentials?: grpc.ChannelCredentials;
}

const MIN_PROBE_MS = 500;

/** A configured duration as said back to people: "60 s", "2.5 s". */
function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/**
 * Resolves with the cluster id once PD at `endpoints` answers; rejects with a
 * PdUnavailableError ("cannot reach PD at … (reason); gave up after 60 s") at the
 * deadline. A refusal from PD itself (a PdError) is not waited out: it is rethrown.
 */
export async function waitForPd(endpoints: string, opts: WaitForPdOptions): Promise<number> {
  const probeMs = opts.probeTimeoutMs ?? 2000;
  const retryMs = opts.retryMs ?? 1000;
  const repeatMs = opts.repeatMs ?? 10_000;
  const deadline = opts.timeoutMs > 0 ? Date.now() + opts.timeoutMs : Infinity;
  let lastReason: string | undefined;
  let lastReport = 0;
  for (;;) {
    // One short-lived client per probe: its attempt fails fast and reports why. The last
    // probe is shortened to the deadline, but not below MIN_PROBE_MS: a probe cut shorter
    // than a connection takes would report "timed out" instead of the real reason.
    const budget = Math.max(MIN_PROBE_MS, Math.min(probeMs, deadline - Date.now()));
    // A backoff as long as the budget: the client gives up after its first failed attempt,
    // so a refused connection is reported at once rather than retried inside the probe.
    const probe = PdClient.connect(endpoints, {
      timeoutMs: budget,
      rpcTimeoutMs: budget,
      backoffBaseMs: 2 * budget,
      backoffMaxMs: 2 * budget,
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
    });
    try {
      return await probe.getClusterId();
    } catch (e) {
      if (!(e instanceof PdUnavailableError)) throw e;
      const now = Date.now();
      if (now >= deadline - MIN_PROBE_MS / 2) {
        throw new PdUnavailableError(
          e.address,
          `${e.reason}; gave up after ${seconds(opts.timeoutMs)}`,
          { cause: e },
        );
      }
      if (e.reason !== lastReason || now - lastReport >= repeatMs) {
        const limit =
          deadline === Infinity
            ? 'until it answers'
            : `for up to ${Math.ceil((deadline - now) / 1000)} s more`;
        const verb = lastReason === undefined ? 'waiting' : 'still waiting';
        opts.report(`${verb} for PD at ${e.address} (${e.reason}); retrying ${limit}`);
        lastReason = e.reason;
        lastReport = now;
      }
      await new Promise((r) => setTimeout(r, Math.min(retryMs, Math.max(0, deadline - now))));
    } finally {
      probe.close();
    }
  }
}

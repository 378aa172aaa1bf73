// A store started before its PD (or pointed at a wrong address) waits for PD in plain
// sight: it says what it is waiting for and why, repeats that while the reason holds, and
// gives up after a deadline with the same words — never a silent hang.
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
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
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
  const started = Date.now();
  const deadline = opts.timeoutMs > 0 ? started + opts.timeoutMs : Infinity;
  let lastReason: string | undefined;
  let lastReport = 0;
  for (;;) {
    const left = deadline - Date.now();
    // One short-lived client per probe: its single attempt fails fast and reports why.
    const probe = PdClient.connect(endpoints, {
      timeoutMs: Math.max(1, Math.min(probeMs, left)),
      rpcTimeoutMs: Math.max(1, Math.min(probeMs, left)),
    });
    try {
      return await probe.getClusterId();
    } catch (e) {
      if (!(e instanceof PdUnavailableError)) throw e;
      const now = Date.now();
      if (now + retryMs >= deadline) {
        throw new PdUnavailableError(
          e.address,
          `${e.reason}; gave up after ${seconds(now - started)}`,
          {
            cause: e,
          },
        );
      }
      if (e.reason !== lastReason || now - lastReport >= repeatMs) {
        const limit =
          deadline === Infinity ? 'until it answers' : `for up to ${seconds(deadline - now)} more`;
        const verb = lastReason === undefined ? 'waiting' : 'still waiting';
        opts.report(`${verb} for PD at ${e.address} (${e.reason}); retrying ${limit}`);
        lastReason = e.reason;
        lastReport = now;
      }
      await new Promise((r) => setTimeout(r, retryMs));
    } finally {
      probe.close();
    }
  }
}

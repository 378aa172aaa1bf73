// nyx top: a live dashboard of the cluster (src/ui/). On a terminal it redraws about once
// a second; with --once, or when stdout is not a terminal, it prints one frame as text;
// with --json one snapshot as JSON. Both take two samples --interval apart so that rates
// and p99 cover a real interval.
import { Flags } from '@oclif/core';
import { createElement } from 'react';
import { PdCommand } from '../cli/base_command.js';
import { formatHostPort, parseHostPort } from '../common/address.js';
import { Collector, httpsGetWith } from '../ui/collect.js';

/** PD's status port is its gRPC port - 1 by the defaults (2379/2378) and in playgrounds. */
export function defaultPdStatus(pd: string): string {
  const first = parseHostPort(pd.split(',')[0].trim());
  return formatHostPort({ host: first.host, port: first.port - 1 });
}

/** How long a resize settles (terminals send several) before the screen is redrawn. */
const RESIZE_SETTLE_MS = 50;

export default class Top extends PdCommand<typeof Top> {
  static override description =
    'Live cluster dashboard: stores, Regions, load and events (q quits; --once prints one frame)';

  static override examples = [
    '<%= config.bin %> top',
    '<%= config.bin %> top --once',
    '<%= config.bin %> top --json --pd 127.0.0.1:2379',
  ];

  // The dashboard runs until q: a bound on the whole command would end it after --timeout.
  protected static override boundedByTimeout = false;

  static override flags = {
    'pd-status': Flags.string({
      description: "PD's HTTP status address (default: the --pd host, port - 1)",
      helpValue: 'host:port',
    }),
    once: Flags.boolean({ description: 'print one frame as text and exit', default: false }),
    interval: Flags.integer({
      description: 'refresh interval in ms (and the gap between the two samples of --once/--json)',
      default: 1000,
      min: 100,
    }),
    width: Flags.integer({ description: 'columns of a text frame (default: terminal or 160)' }),
  };

  async run(): Promise<void> {
    const f = this.flags;
    // Under mutual TLS the status pages are HTTPS and want this command's certificate.
    const tls = this.tls();
    const interactive = !f.once && !this.json && process.stdout.isTTY && process.stdin.isTTY;
    const collector = new Collector({
      pdAddress: f.pd.split(',')[0].trim(),
      pdStatusAddress: f['pd-status'] ?? defaultPdStatus(f.pd),
      ...(tls ? { scheme: 'https' as const, get: httpsGetWith(tls.clientOptions()) } : {}),
      // --timeout bounds each scrape. The live view keeps to about one refresh interval,
      // so a paused store slows a frame by that much, not by the whole --timeout.
      timeoutMs: interactive ? Math.min(this.timeoutMs, Math.max(800, f.interval)) : this.timeoutMs,
    });
    if (!interactive) {
      await collector.collect();
      await new Promise((r) => setTimeout(r, f.interval));
      const snap = await collector.collect();
      const width = f.width ?? (process.stdout.isTTY ? process.stdout.columns : 160);
      const { renderTextFrame } = await import('../ui/text_frame.js');
      this.output(snap, () => renderTextFrame(snap, width).trimEnd());
      return;
    }
    // Ink decides once, when it is first imported, whether it runs under CI (the CI or
    // CONTINUOUS_INTEGRATION variable), and there draws only the last frame at exit. Both
    // ends of this process are a terminal, so a person is watching: draw every frame. Ink
    // is therefore imported only here, after that decision is taken out of its hands.
    process.env.CI = 'false';
    process.env.CONTINUOUS_INTEGRATION = 'false';
    const { render } = await import('ink');
    const { Dashboard } = await import('../ui/dashboard.js');
    // The alternate screen, as top(1) uses: the dashboard leaves the scrollback as it was.
    process.stdout.write('\x1b[?1049h\x1b[H');
    const dashboard = () =>
      createElement(Dashboard, { poll: () => collector.collect(), intervalMs: f.interval });
    const app = render(dashboard(), { exitOnCtrlC: true, maxFps: 10 });
    // A resize reflows the last frame (drawn for the old width) into more lines than Ink
    // erases, leaving pieces of it: once the frame has been laid out for the new size,
    // clear the screen and draw it whole.
    let redraw: NodeJS.Timeout | undefined;
    const onResize = () => {
      clearTimeout(redraw);
      redraw = setTimeout(() => {
        process.stdout.write('\x1b[2J\x1b[H');
        app.clear();
        app.rerender(dashboard());
      }, RESIZE_SETTLE_MS);
    };
    process.stdout.on('resize', onResize);
    try {
      await app.waitUntilExit();
    } finally {
      clearTimeout(redraw);
      process.stdout.off('resize', onResize);
      process.stdout.write('\x1b[?1049l');
    }
  }
}

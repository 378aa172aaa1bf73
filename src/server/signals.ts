// Waiting for the signal that ends a server process. The handlers are removed once the
// first signal arrives, so a second Ctrl-C while shutdown hangs kills the process the
// default way.

const SHUTDOWN_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

export function waitForShutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      for (const s of SHUTDOWN_SIGNALS) process.off(s, onSignal);
      resolve(signal);
    };
    for (const s of SHUTDOWN_SIGNALS) process.on(s, onSignal);
  });
}

// A child of `nyx playground` stops when its parent is gone, however the parent went:
// a playground killed with kill -9 runs no cleanup, so the children must notice
// themselves (Linux's PR_SET_PDEATHSIG is not available to Node). The playground passes
// its pid in NYX_PARENT_PID; once this process's parent pid differs (it was re-parented
// to init or a subreaper), the process sends itself SIGTERM, so the usual graceful
// shutdown runs, or the default action ends it if no handler is installed yet.
export const PARENT_PID_ENV = 'NYX_PARENT_PID';

/** How often the parent pid is checked: a dead playground's children are gone within this. */
const CHECK_MS = 500;
/** If the graceful shutdown hangs, exit anyway after this long. */
const FORCE_EXIT_MS = 10_000;

/** Starts watching when NYX_PARENT_PID is set; returns a stop function. */
export function watchParent(onGone: (parentPid: number) => void = () => undefined): () => void {
  const raw = process.env[PARENT_PID_ENV];
  if (!raw) return () => undefined;
  const parent = Number(raw);
  if (!Number.isSafeInteger(parent) || parent <= 0) {
    throw new Error(`${PARENT_PID_ENV} must be a process id, got ${JSON.stringify(raw)}`);
  }
  const check = () => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone(parent);
    setTimeout(() => process.exit(1), FORCE_EXIT_MS).unref();
    process.kill(process.pid, 'SIGTERM');
  };
  const timer = setInterval(check, CHECK_MS);
  timer.unref();
  // The parent may already be gone (it died while this process started).
  check();
  return () => clearInterval(timer);
}

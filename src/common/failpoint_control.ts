// Run-time control of failpoints over a process's HTTP status port:
//   GET    /failpoints          the active failpoints, JSON [{name, action, hits, paused}]
//   PUT    /failpoints/<name>   set it; the body is the action (`return`, `1*panic`, ...)
//   DELETE /failpoints/<name>   remove it
// Only for a process started with --allow-failpoints (or NYX_ALLOW_FAILPOINTS=1); any
// other process answers 403, so a production port cannot be made to crash its process.
import { FailpointSpecError, listFailpoints, removeFailpoint, setFailpoint } from './failpoint.js';
import { isFailpointName } from './failpoint_names.js';

export const FAILPOINTS_PATH = '/failpoints';

export interface ControlAnswer {
  code: number;
  body: unknown;
}

/** Whether a request path belongs to the failpoint endpoints. */
export function isFailpointPath(path: string): boolean {
  return path === FAILPOINTS_PATH || path.startsWith(FAILPOINTS_PATH + '/');
}

export function handleFailpointRequest(
  method: string,
  path: string,
  body: string,
  allowed: boolean,
): ControlAnswer {
  if (!allowed) {
    return {
      code: 403,
      body: {
        error:
          'failpoints cannot be changed at run time: start the process with --allow-failpoints (or NYX_ALLOW_FAILPOINTS=1)',
      },
    };
  }
  if (path === FAILPOINTS_PATH) {
    if (method !== 'GET') return { code: 405, body: { error: `${method} ${path}: use GET` } };
    return { code: 200, body: listFailpoints() };
  }
  const name = decodeURIComponent(path.slice(FAILPOINTS_PATH.length + 1));
  try {
    switch (method) {
      case 'PUT': {
        setFailpoint(name, body);
        const now = listFailpoints().find((f) => f.name === name);
        return { code: 200, body: now ?? { name, action: 'off' } };
      }
      case 'DELETE':
        if (!isFailpointName(name)) throw new FailpointSpecError(`unknown failpoint "${name}"`);
        return { code: 200, body: { name, removed: removeFailpoint(name) } };
      default:
        return { code: 405, body: { error: `${method} ${path}: use PUT or DELETE` } };
    }
  } catch (e) {
    if (e instanceof FailpointSpecError) return { code: 400, body: { error: e.message } };
    throw e;
  }
}

// semaphore(): bounds the SES calls in flight in one process; waiters are served first come, first served.
export interface Semaphore {
  /** Resolves with a release function, or with null if `signal` aborts first (nothing is then held). */
  acquire(signal?: AbortSignal): Promise<(() => void) | null>;
  readonly active: number;
  readonly waiting: number;
}

export function semaphore(limit: number): Semaphore {
  if (!(Number.isInteger(limit) && limit >= 1)) throw new TypeError('semaphore: limit must be a positive integer');
  let active = 0;
  const waiters: Array<() => void> = [];

  const releaser = () => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = waiters.shift();
      if (next) next();
      else active--;
    };
  };

  return {
    get active() {
      return active;
    },
    get waiting() {
      return waiters.length;
    },
    acquire(signal) {
      if (signal?.aborted) return Promise.resolve(null);
      if (active < limit) {
        active++;
        return Promise.resolve(releaser());
      }
      return new Promise((resolve) => {
        const grant = () => {
          signal?.removeEventListener('abort', cancel);
          resolve(releaser());
        };
        const cancel = () => {
          const at = waiters.indexOf(grant);
          if (at >= 0) waiters.splice(at, 1);
          resolve(null);
        };
        waiters.push(grant);
        signal?.addEventListener('abort', cancel, { once: true });
      });
    },
  };
}

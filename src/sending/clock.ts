// systemClock(): wall-clock time and abortable sleeps for the sending engine.
import type { Clock } from '../types.js';

/**
 * The real clock. `sleep(ms, signal)` RESOLVES (never rejects) as soon as `signal` aborts, so an abort is an ordinary
 * early wake-up: callers check `signal.aborted` afterwards instead of catching. Its timer is not unref'd — a sleeping
 * sender (rate-limit wait, retry backoff) keeps the process alive until it finishes or its signal aborts.
 */
export function systemClock(): Clock {
  return {
    now: () => Date.now(),
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        if (signal?.aborted || !(ms > 0)) {
          resolve();
          return;
        }
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal?.addEventListener('abort', done, { once: true });
      }),
  };
}

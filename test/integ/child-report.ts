// The child side of the Redis suites' worker processes: report over IPC, crashes included, and a logger that reports.
import type { Logger } from '../../src/types.js';

/** What every child reports besides its own messages. */
export type ChildMessage =
  | { type: 'ready'; pid: number }
  | { type: 'log'; pid: number; level: string; code: string; msg: string; err?: string; lease?: string }
  | { type: 'crash'; pid: number; what: string; message: string };

/** Sends `message` to the parent; reports unhandled rejections and exceptions; returns a logger that reports too. */
export function childReporting<M extends { type: string }>(): {
  report: (message: M | ChildMessage) => void;
  logger: Logger;
} {
  const pid = process.pid;
  const report = (message: M | ChildMessage) => process.send?.(message);
  process.on('unhandledRejection', (err) =>
    report({ type: 'crash', pid, what: 'unhandledRejection', message: String(err) }),
  );
  process.on('uncaughtException', (err) =>
    report({ type: 'crash', pid, what: 'uncaughtException', message: String(err) }),
  );
  const log =
    (level: string) =>
    (obj: object, msg = ''): void => {
      const { code, err, lease } = obj as { code?: string; err?: unknown; lease?: string };
      const text = err === undefined ? undefined : err instanceof Error ? err.message : String(err);
      report({ type: 'log', pid, level, code: String(code), msg, err: text, lease });
    };
  return { report, logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') } };
}

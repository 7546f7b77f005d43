// Spawning the Redis suites' worker processes (queue-worker-process.ts, redis-worker-process.ts) and what they report.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildMessage } from './child-report.js';
import type { QueueWorkerConfig, QueueWorkerMessage } from './queue-worker-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Child<M> {
  proc: ChildProcess;
  pid: number;
  messages: M[];
  /** Resolves on the child's `ready` message; rejects if it exits before. */
  ready: Promise<void>;
  exited(): boolean;
  kill(signal: NodeJS.Signals): void;
}

/** Runs `entry` (a .ts file next to this one) with `config` as its JSON argument, under tsx, with IPC. */
export function spawnChild<M extends { type: string }>(entry: string, config: object): Child<M | ChildMessage> {
  const file = fileURLToPath(new URL(entry, import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', file, JSON.stringify(config)], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages: (M | ChildMessage)[] = [];
  let exited = false;
  proc.once('exit', () => {
    exited = true;
  });
  const ready = new Promise<void>((resolve, reject) => {
    proc.on('message', (m) => {
      const message = m as M | ChildMessage;
      messages.push(message);
      if (message.type === 'ready') resolve();
      if (message.type === 'crash') {
        const { what, message: text } = message as Extract<ChildMessage, { type: 'crash' }>;
        console.error(`[${entry} ${proc.pid}] ${what}: ${text}`);
      }
    });
    proc.once('exit', (code, signal) => reject(new Error(`${entry} exited (${code ?? signal}) before ready`)));
  });
  return {
    proc,
    pid: proc.pid as number,
    messages,
    ready,
    exited: () => exited,
    kill: (signal) => {
      if (!exited) proc.kill(signal);
    },
  };
}

/** Asks a child to close and waits for it to exit (SIGKILL after 15 s). */
export async function stopChild(child: Child<unknown>): Promise<void> {
  if (child.exited()) return;
  const gone = new Promise((r) => child.proc.once('exit', r));
  if (child.proc.connected) child.proc.send({ type: 'close' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await gone;
  clearTimeout(timer);
}

export type QueueChild = Child<QueueWorkerMessage> & {
  calls(): Extract<QueueWorkerMessage, { type: 'call' }>[];
};

export function spawnQueueWorker(config: QueueWorkerConfig): QueueChild {
  const child = spawnChild<QueueWorkerMessage>('./queue-worker-process.ts', config);
  return {
    ...child,
    calls: () => child.messages.filter((m): m is Extract<QueueWorkerMessage, { type: 'call' }> => m.type === 'call'),
  };
}

export const stopQueueWorker = stopChild;

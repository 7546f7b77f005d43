// Spawning queue worker processes (queue-worker-process.ts) and collecting what they report.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { QueueWorkerConfig, QueueWorkerMessage } from './queue-worker-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = fileURLToPath(new URL('./queue-worker-process.ts', import.meta.url));

export interface QueueChild {
  proc: ChildProcess;
  pid: number;
  messages: QueueWorkerMessage[];
  ready: Promise<void>;
  calls(): Extract<QueueWorkerMessage, { type: 'call' }>[];
  exited(): boolean;
  kill(signal: NodeJS.Signals): void;
}

export function spawnQueueWorker(config: QueueWorkerConfig): QueueChild {
  const proc = spawn(process.execPath, ['--import', 'tsx', ENTRY, JSON.stringify(config)], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages: QueueWorkerMessage[] = [];
  let exited = false;
  proc.once('exit', () => {
    exited = true;
  });
  const ready = new Promise<void>((resolve, reject) => {
    proc.on('message', (m) => {
      const message = m as QueueWorkerMessage;
      messages.push(message);
      if (message.type === 'ready') resolve();
      if (message.type === 'crash') console.error(`[queue worker ${proc.pid}] ${message.what}: ${message.message}`);
    });
    proc.once('exit', (code, signal) => reject(new Error(`queue worker exited (${code ?? signal}) before ready`)));
  });
  return {
    proc,
    pid: proc.pid as number,
    messages,
    ready,
    calls: () => messages.filter((m): m is Extract<QueueWorkerMessage, { type: 'call' }> => m.type === 'call'),
    exited: () => exited,
    kill: (signal) => {
      if (!exited) proc.kill(signal);
    },
  };
}

/** Asks a child to close its queue and waits for it to exit (SIGKILL after 10 s). */
export async function stopQueueWorker(child: QueueChild): Promise<void> {
  if (child.exited()) return;
  const gone = new Promise((r) => child.proc.once('exit', r));
  if (child.proc.connected) child.proc.send({ type: 'close' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
}

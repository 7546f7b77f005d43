// Child processes for the benchmarks: fork a TypeScript file under tsx and call named handlers in it over IPC.
import { type ChildProcess, fork } from 'node:child_process';

type Handler = (args: any) => unknown;

interface Request {
  id: number;
  cmd: string;
  args: unknown;
}

interface Reply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

export interface Child {
  pid: number;
  process: ChildProcess;
  /** Calls a handler the child registered with serve(); rejects with the child's error message. */
  call<T = unknown>(cmd: string, args?: unknown): Promise<T>;
  /** Calls `exit` if the child serves it, then kills the child if it is still alive after `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

export interface ForkOptions {
  /** Extra Node flags, e.g. `--expose-gc`. */
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** Where the child's stdout/stderr go. Default inherit (the orchestrator's console). */
  quiet?: boolean;
}

/** Forks `file` (a module that calls serve()) and resolves once it said it is ready. */
export async function forkChild(file: string, argv: string[] = [], options: ForkOptions = {}): Promise<Child> {
  // BENCH_CPU_PROF=<dir>: every benchmark process writes a V8 CPU profile there (summarise with profile-summary.ts).
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = fork(file, argv, {
    execArgv: ['--import', 'tsx', ...prof, ...(options.nodeArgs ?? [])],
    // The SDK's Node 20 end-of-support notice would repeat once per process.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env, ...options.env },
    stdio: options.quiet ? ['ignore', 'ignore', 'inherit', 'ipc'] : ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 1;
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.on('exit', (code, signal) => {
    exited = true;
    for (const p of pending.values()) p.reject(new Error(`child ${file} exited (code ${code}, signal ${signal})`));
    pending.clear();
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`child ${file} exited before it was ready (code ${code})`)));
    child.on('message', (m: Reply | { ready: true }) => {
      if ('ready' in m) {
        resolve();
        return;
      }
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(m.error));
    });
  });
  await ready;
  return {
    pid: child.pid as number,
    process: child,
    call<T>(cmd: string, args?: unknown): Promise<T> {
      if (exited) return Promise.reject(new Error(`child ${file} has exited`));
      const id = next++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, cmd, args } satisfies Request);
      });
    },
    async close(graceMs = 10_000) {
      if (exited) return;
      child.send({ id: 0, cmd: '__exit', args: null } satisfies Request);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** In the child: answers the parent's calls with `handlers`; `exit` (optional) runs before the process ends. */
export function serve(handlers: Record<string, Handler>): void {
  process.on('message', async (m: Request) => {
    if (m.cmd === '__exit') {
      try {
        await handlers.exit?.(null);
      } finally {
        process.exit(0);
      }
    }
    const handler = handlers[m.cmd];
    try {
      if (!handler) throw new Error(`no handler "${m.cmd}"`);
      const value = await handler(m.args);
      process.send?.({ id: m.id, ok: true, value } satisfies Reply);
    } catch (err) {
      process.send?.({
        id: m.id,
        ok: false,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      } satisfies Reply);
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ ready: true });
}

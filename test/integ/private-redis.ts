// A redis-server of the test's own, on a free port, that the test may pause (SIGSTOP), resume and restart.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface PrivateRedis {
  port: number;
  url: string;
  /** SIGSTOP: the server keeps its connections but answers nothing. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** A clean stop (SIGTERM: the append-only file is flushed) and a start on the same port and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function ping(url: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') return;
    } catch {
      if (Date.now() > end) throw new Error(`redis-server at ${url} did not start within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      probe.disconnect();
    }
  }
}

/** Starts `redis-server` (it must be on PATH) with its own data folder; `extra` are more command-line options. */
export async function startPrivateRedis(
  options: { appendonly?: boolean; extra?: string[] } = {},
): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ebe-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.appendonly ? 'yes' : 'no',
    ...(options.extra ?? []),
  ];
  let proc: ChildProcess;
  const launch = async () => {
    proc = spawn('redis-server', args, { stdio: 'ignore' });
    await ping(url, 10_000);
  };
  const kill = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGCONT');
    proc.kill('SIGTERM');
    await exited;
  };
  await launch();
  return {
    port,
    url,
    pause: () => void proc.kill('SIGSTOP'),
    resume: () => void proc.kill('SIGCONT'),
    restart: async () => {
      await kill();
      await launch();
    },
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PrivateCluster {
  nodes: { host: string; port: number }[];
  stop(): Promise<void>;
}

/** Three masters (`--cluster-enabled yes`, no replicas) joined with `redis-cli --cluster create`. */
export async function startPrivateCluster(): Promise<PrivateCluster> {
  const servers = await Promise.all(
    [0, 1, 2].map(() => startPrivateRedis({ extra: ['--cluster-enabled', 'yes', '--cluster-node-timeout', '5000'] })),
  );
  const nodes = servers.map((s) => ({ host: '127.0.0.1', port: s.port }));
  const created = spawn(
    'redis-cli',
    ['--cluster', 'create', ...nodes.map((n) => `${n.host}:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'],
    { stdio: 'ignore' },
  );
  const code = await new Promise((r) => created.once('exit', r));
  if (code !== 0) throw new Error(`redis-cli --cluster create exited with ${code}`);
  // Wait until every node agrees the cluster is up.
  for (const n of nodes) {
    const end = Date.now() + 20_000;
    const probe = new Redis(n.port, n.host);
    try {
      while (!/cluster_state:ok/.test(await probe.cluster('INFO'))) {
        if (Date.now() > end) throw new Error('the private cluster did not come up');
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      probe.disconnect();
    }
  }
  return { nodes, stop: async () => void (await Promise.all(servers.map((s) => s.stop()))) };
}

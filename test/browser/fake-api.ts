// A stand-in for the router's job API (same JSON shapes and routes), serving the real dashboard and SSE writer.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { DASHBOARD_PATHS, dashboardHandlers } from '../../src/dashboard/dashboard-handler.js';
import { type EventFeed, streamEvents } from '../../src/http/sse.js';

export interface FakeJob {
  id: string;
  created_at: string;
  updated_at: string;
  status: string;
  entries: number;
  recipients: number;
  counts: Record<string, number>;
  completed_at?: string;
  estimated_completion_at?: string;
  error?: { code: string; message: string };
  [key: string]: unknown;
}

export interface FakeResult {
  index: number;
  status: string;
  attempts: number;
  recipients?: string[];
  message_id?: string;
  error?: { code: string; message: string };
  delivery?: { status: string; at: string };
}

export interface FakeApi {
  url: string;
  jobs: Map<string, { job: FakeJob; results: FakeResult[]; version: number; listeners: Set<() => void> }>;
  /** Every request the API saw: "METHOD path?query". */
  requests: string[];
  /** Changes a job and tells its event streams. */
  update(id: string, change: (job: FakeJob) => void): void;
  close(): Promise<void>;
}

const FINAL = new Set(['completed', 'failed', 'canceled']);
export const SESSION_COOKIE = 'session=signed-in';

export async function startFakeApi(jobs: { job: FakeJob; results: FakeResult[] }[]): Promise<FakeApi> {
  const state: FakeApi['jobs'] = new Map(jobs.map((j) => [j.job.id, { ...j, version: 1, listeners: new Set() }]));
  const requests: string[] = [];
  const router = express.Router();
  // The app's own session auth, as `authenticate` would run it on every route, the dashboard included.
  router.use((req: Request, res: Response, next: NextFunction) => {
    requests.push(`${req.method} ${req.url}`);
    if (!(req.get('cookie') ?? '').split(/;\s*/).includes(SESSION_COOKIE)) {
      res
        .status(401)
        .json({ success: false, error: { code: 'UNAUTHORIZED', message: 'Missing or invalid credentials' } });
      return;
    }
    next();
  });
  const dashboard = dashboardHandlers();
  router.get(DASHBOARD_PATHS.page, dashboard.page);
  router.get(DASHBOARD_PATHS.script, dashboard.script);
  router.get(DASHBOARD_PATHS.style, dashboard.style);
  router.get(DASHBOARD_PATHS.icon, dashboard.icon);

  router.get('/', (req, res) => {
    const wanted = typeof req.query.status === 'string' ? req.query.status.split(',') : null;
    const list = [...state.values()]
      .map((s) => s.job)
      .filter((j) => !wanted || wanted.includes(j.status))
      .sort((a, b) => b.created_at.localeCompare(a.created_at));
    res.json({ success: true, data: { jobs: list, next_cursor: null } });
  });
  const owned = (req: Request, res: Response) => {
    const entry = state.get(String(req.params.id));
    if (!entry) res.status(404).json({ success: false, error: { code: 'NOT_FOUND', message: 'No such job' } });
    return entry;
  };
  router.get('/:id', (req, res) => {
    const entry = owned(req, res);
    if (entry) res.json({ success: true, data: entry.job });
  });
  router.get('/:id/results', (req, res) => {
    const entry = owned(req, res);
    if (!entry) return;
    const status = typeof req.query.status === 'string' ? req.query.status.split(',') : null;
    const delivery = typeof req.query.delivery === 'string' ? req.query.delivery.split(',') : null;
    const results = entry.results.filter(
      (r) => (!status || status.includes(r.status)) && (!delivery || delivery.includes(r.delivery?.status ?? '')),
    );
    res.json({ success: true, data: { results, next_cursor: null } });
  });
  router.get('/:id/events', async (req, res) => {
    const entry = owned(req, res);
    if (!entry) return;
    const feed: EventFeed = {
      async since(last) {
        if (last === String(entry.version)) return [];
        const event = FINAL.has(entry.job.status) ? 'done' : 'progress';
        return [{ event, id: String(entry.version), data: entry.job }];
      },
      subscribe(onChange) {
        entry.listeners.add(onChange);
        return () => entry.listeners.delete(onChange);
      },
    };
    await streamEvents(req, res, feed, { minIntervalMs: 50 });
  });
  for (const action of ['pause', 'resume', 'cancel']) {
    router.post(`/:id/${action}`, (req, res) => {
      const entry = owned(req, res);
      if (!entry) return;
      api.update(entry.job.id, (job) => {
        if (action === 'pause') job.status = 'paused';
        if (action === 'resume') job.status = 'sending';
        if (action === 'cancel') {
          job.status = 'canceled';
          job.counts.canceled += job.counts.pending;
          job.counts.pending = 0;
        }
      });
      res.json({ success: true, data: entry.job });
    });
  }

  const app = express();
  app.use('/bulk-email', router);
  const server = http.createServer(app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const api: FakeApi = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/bulk-email`,
    jobs: state,
    requests,
    update(id, change) {
      const entry = state.get(id)!;
      change(entry.job);
      entry.job.updated_at = new Date().toISOString();
      entry.version += 1;
      for (const listener of [...entry.listeners]) listener();
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  return api;
}

// Assembles the Express router: routes, 404/405 envelopes and the error boundary.
import express, { type RequestHandler, type Router } from 'express';
import { BulkEmailError } from '../errors.js';
import type { Principal } from '../types.js';
import { buildOpenApi } from '../validation/openapi.js';
import { asyncHandler } from './async-handler.js';
import { type RouteContext, principalOf } from './context.js';
import { createJobHandler } from './create-job.js';
import { errorHandler } from './error-handler.js';
import { jobEventsHandler } from './events-route.js';
import { unsubscribeHandler } from '../unsubscribe/handler.js';
import { listJobsHandler } from './job-list.js';
import { cancelHandler, getJobHandler, getResultsHandler, pauseHandler, resumeHandler } from './job-routes.js';
import { snsEventsHandler } from '../events/sns-handler.js';
import { addressOf } from './sender-policy.js';
import { DASHBOARD_PATHS } from '../dashboard/dashboard-paths.js';
import type { DashboardHandlers } from '../dashboard/dashboard-handler.js';
import { deleteSuppressionHandler, listSuppressionsHandler, putSuppressionHandler } from './suppression-routes.js';

function methodNotAllowed(allow: string): RequestHandler {
  return (req, _res, next) => {
    next(
      new BulkEmailError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use ${allow}`, {
        headers: { Allow: allow },
      }),
    );
  };
}

/** Runs `authenticate` before answering 405/404, so that callers without credentials learn nothing about routes. */
function authenticated<P extends Principal>(ctx: RouteContext<P>, handler: RequestHandler): RequestHandler {
  return asyncHandler(async (req, res, next) => {
    await principalOf(ctx, req);
    handler(req, res, next);
  });
}

export function buildRouter<P extends Principal>(ctx: RouteContext<P>): Router {
  const router = express.Router({ strict: false, caseSensitive: true });
  const openapi = buildOpenApi({ schema: ctx.validator.schema });

  router.get(
    '/openapi.json',
    authenticated(ctx, (_req, res) => {
      res.json(openapi); // the document itself, not the envelope: Swagger UI and code generators read it directly
    }),
  );
  router.all('/openapi.json', authenticated(ctx, methodNotAllowed('GET, HEAD')));

  const unsubscribe = ctx.config.unsubscribe;
  if (unsubscribe) {
    // No authenticate and no JSON body parser: the mailbox provider posts `List-Unsubscribe=One-Click` form data.
    const { secret, onUnsubscribe } = unsubscribe;
    const { store, clock } = ctx.config;
    const suppress = (address: string, principalId: string, at: string) =>
      ctx.feedback.suppress(principalId, [{ address: addressOf(address), reason: 'UNSUBSCRIBE', at }]);
    router.post('/unsubscribe/:token', unsubscribeHandler({ secret, onUnsubscribe, store, clock, suppress }));
    // GET must not unsubscribe: mail scanners prefetch links.
    router.all('/unsubscribe/:token', methodNotAllowed('POST'));
  }

  // Delivery feedback: SES events over SNS (no authenticate: SNS calls it; the signature is the check), the lists.
  if (ctx.sns) {
    router.post('/events/sns', snsEventsHandler(ctx.sns));
    router.all('/events/sns', methodNotAllowed('POST'));
  }
  router.get('/suppressions', asyncHandler(listSuppressionsHandler(ctx)));
  router.all('/suppressions', authenticated(ctx, methodNotAllowed('GET, HEAD')));
  router.put('/suppressions/:address', asyncHandler(putSuppressionHandler(ctx)));
  router.delete('/suppressions/:address', asyncHandler(deleteSuppressionHandler(ctx)));
  router.all('/suppressions/:address', authenticated(ctx, methodNotAllowed('PUT, DELETE')));

  // The dashboard page and its assets: behind authenticate like every route (the app's cookie or header applies).
  if (ctx.config.dashboard) {
    // Loaded only when enabled: its assets are `?raw` imports (inlined by the build; Vite in tests).
    let handlers: Promise<DashboardHandlers> | undefined;
    const load = () => {
      handlers ??= import('../dashboard/dashboard-handler.js').then((m) => m.dashboardHandlers());
      return handlers;
    };
    for (const [name, path] of Object.entries(DASHBOARD_PATHS) as [keyof typeof DASHBOARD_PATHS, string][]) {
      router.get(
        path,
        asyncHandler(async (req, res, next) => {
          await principalOf(ctx, req);
          (await load())[name](req, res, next);
        }),
      );
      router.all(path, authenticated(ctx, methodNotAllowed('GET, HEAD')));
    }
  }

  // The handler authenticates before it reads the body (no body-parsing middleware in front of it).
  router.get('/', asyncHandler(listJobsHandler(ctx)));
  router.post('/', asyncHandler(createJobHandler(ctx)));
  router.all('/', authenticated(ctx, methodNotAllowed('GET, HEAD, POST')));

  router.get('/:id', asyncHandler(getJobHandler(ctx)));
  router.all('/:id', authenticated(ctx, methodNotAllowed('GET, HEAD')));
  router.get('/:id/results', asyncHandler(getResultsHandler(ctx)));
  router.all('/:id/results', authenticated(ctx, methodNotAllowed('GET, HEAD')));
  router.get('/:id/events', asyncHandler(jobEventsHandler(ctx)));
  router.all('/:id/events', authenticated(ctx, methodNotAllowed('GET, HEAD')));
  router.post('/:id/cancel', asyncHandler(cancelHandler(ctx)));
  router.all('/:id/cancel', authenticated(ctx, methodNotAllowed('POST')));
  router.post('/:id/pause', asyncHandler(pauseHandler(ctx)));
  router.all('/:id/pause', authenticated(ctx, methodNotAllowed('POST')));
  router.post('/:id/resume', asyncHandler(resumeHandler(ctx)));
  router.all('/:id/resume', authenticated(ctx, methodNotAllowed('POST')));

  router.use(
    authenticated(ctx, (req, _res, next) => {
      next(new BulkEmailError('NOT_FOUND', `No route ${req.method} ${req.path}`));
    }),
  );
  router.use(errorHandler(ctx.config.logger));
  return router;
}

// POST /: authenticate, read the body, then the accept path as an ordered list of steps; store and queue (or plan).
import type { Request, Response } from 'express';
import { acceptedView, ok } from '../envelope.js';
import { validationError } from '../errors.js';
import { warnVisibly } from '../logger.js';
import type { SpanNote } from '../telemetry/telemetry.js';
import type { HookContext, JobRecord, Principal, SendBulkEmailRequest, StoredResponse } from '../types.js';
import { unsubscribeStep } from '../unsubscribe/sign-entries.js';
import { parsedTemplateData } from '../validation/semantic-checks.js';
import { admissionStep } from './admission.js';
import { discardUnreadBody, readJsonBody } from './body.js';
import { principalOf, type RouteContext } from './context.js';
import { type AcceptStep, newDraft, runSteps } from './draft.js';
import { dryRunAnswer } from './dry-run.js';
import { authorizeStep, resolveTemplateStep, validateHookStep } from './hooks.js';
import { idempotencyKey, idempotent } from './idempotency.js';
import { newJobId } from './job-id.js';
import { renderPolicyStep } from './render-policy.js';
import { reputationStep } from './reputation-step.js';
import { resourcesStep } from './resource-policy.js';
import { parseSendAt } from './send-at.js';
import { sendJson } from './send-json.js';
import { sendersStep } from './sender-policy.js';
import { storeAndQueue } from './store-job.js';
import { suppressionStep } from './suppression.js';
import { answerAfterWait } from './wait.js';

/**
 * Everything that can refuse or change a checked request, in the contract's order: the app's rules, who may send
 * what (identities, then SES resources, before any SES lookup), the template (resolved, then checked), who is left
 * to send to, their unsubscribe links, and admission. Steps whose option is not set are left out.
 */
function acceptSteps<P extends Principal>(ctx: RouteContext<P>): AcceptStep<P>[] {
  const steps = [
    reputationStep(ctx),
    validateHookStep(ctx),
    authorizeStep(ctx),
    sendersStep(ctx),
    resourcesStep(ctx),
    resolveTemplateStep(ctx),
    renderPolicyStep(ctx),
    suppressionStep(ctx),
    unsubscribeStep(ctx),
    admissionStep(ctx),
  ];
  return steps.filter((step): step is AcceptStep<P> => step !== undefined);
}

function isDryRun(req: Request): boolean {
  if (!req.url.includes('?')) return false; // no query string to parse
  const value = req.query.dry_run;
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1' || value === '') return true;
  throw validationError({ path: '/dry_run', message: 'dry_run must be true or false' });
}

export function createJobHandler<P extends Principal>(ctx: RouteContext<P>) {
  const { config } = ctx;
  const steps = acceptSteps(ctx);
  let warnedParsedElsewhere = false;

  /** Nothing of the body is read until the caller is known and its headers and query are good. */
  async function beforeBody(req: Request) {
    const principal = await principalOf(ctx, req);
    try {
      const sendAt = parseSendAt(req.query.send_at, config.clock.now(), config.maxScheduleAhead);
      return { principal, key: idempotencyKey(req), dry: isDryRun(req), sendAt };
    } catch (err) {
      discardUnreadBody(req);
      throw err;
    }
  }

  async function body(req: Request) {
    const read = await readJsonBody(req, config.bodyLimit);
    if (read.parsedElsewhere && !warnedParsedElsewhere) {
      warnedParsedElsewhere = true;
      warnVisibly(
        config.logger,
        { code: 'EBE_BODY_PARSED_ELSEWHERE' },
        "express-bulk-email: the request body was already parsed by middleware mounted before the router (such as app.use(express.json())). It is used as it is, but that parser read it before authentication, applied its own size limit and answers its own errors as HTML. Mount the router before the body parser: app.use('/bulk-email', bulkEmail(…)); app.use(express.json())",
      );
    }
    return read;
  }

  /** One POST / (in a telemetry span when OpenTelemetry is on: counts and the job id, never addresses). */
  const handle = async (req: Request, res: Response, note: SpanNote): Promise<void> => {
    const { principal, key, dry, sendAt } = await beforeBody(req);
    const read = await body(req);
    const parsed = parsedTemplateData();
    const problems = ctx.validator(read.body, { parsed });
    if (problems.length) throw validationError(problems);
    note({
      'bulk_email.entries': (read.body as SendBulkEmailRequest).BulkEmailEntries.length,
      'bulk_email.dry_run': dry,
    });
    const hook: HookContext<P> = { principal, request: read.body as SendBulkEmailRequest, req };

    if (dry) {
      // Stores nothing, the idempotency key included: a dry run can be repeated freely.
      const draft = newDraft(hook, 'dry-run', parsed, read.bytes);
      draft.sendAt = sendAt;
      await runSteps(steps, draft);
      note({ 'bulk_email.outcome': 'dry_run' });
      sendJson(res, 200, ok(dryRunAnswer(ctx, draft)));
      return;
    }

    let created: JobRecord | undefined;
    const { response, replayed } = await idempotent(
      config.store,
      principal.id,
      key,
      // The send time is part of what the key stands for (a replay with another time is a different request).
      sendAt === undefined ? read.body : { body: read.body, send_at: req.query.send_at },
      async (): Promise<StoredResponse> => {
        const draft = newDraft(hook, newJobId(), parsed, read.bytes);
        draft.sendAt = sendAt;
        await runSteps(steps, draft);
        created = await storeAndQueue(ctx, draft);
        return { status: 202, body: ok(acceptedView(created, ctx.engine.sending())) };
      },
    );
    note({ 'bulk_email.outcome': replayed ? 'replayed' : 'accepted' });
    if (created) {
      note({ 'bulk_email.job.id': created.id, 'bulk_email.recipients': created.recipients });
    }
    if (replayed) {
      res.setHeader('Idempotent-Replayed', 'true');
      sendJson(res, response.status, response.body);
      return;
    }
    if (await answerAfterWait(ctx, req, res, (created as JobRecord).id)) return;
    sendJson(res, response.status, response.body);
  };
  return (req: Request, res: Response): Promise<void> => config.telemetry.accept((note) => handle(req, res, note));
}

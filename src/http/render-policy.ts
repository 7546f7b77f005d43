// The render check as an accept step: strict refuses (400, or 502 when SES will not show the template), permissive
// marks entries INVALID_PARAMETER, off skips it.
import { BulkEmailError, validationError } from '../errors.js';
import { renderCheck } from '../render/render-check.js';
import type { EntryResult, IndexedEntry, Principal } from '../types.js';
import type { RouteContext } from './context.js';
import { type AcceptStep, mergeByIndex } from './draft.js';

/** Node's codes for a network path that failed on the way to SES: what a client is told instead of host and port. */
const NETWORK = /^(?:E[A-Z0-9_]+|UND_ERR_[A-Z_]+)$/;
/** An SDK exception name such as `AccessDeniedException`: a word, never a host, an address or a port. */
const EXCEPTION_NAME = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

/** An SES answer (the SDK's `$metadata`) or a network failure on the way to SES, as opposed to a bug. */
function fromSes(err: unknown): err is { name?: unknown; code?: unknown } {
  if (typeof err !== 'object' || err === null) return false;
  return '$metadata' in err || typeof (err as { code?: unknown }).code === 'string';
}

/**
 * The 502 for a GetEmailTemplate that failed: names the SES exception (or says SES was unreachable), never the
 * error's own message, which may carry a host, an address or a port (`connect ECONNREFUSED 10.0.0.5:443`).
 */
export function templateFetchRefused(err: { name?: unknown; code?: unknown }): BulkEmailError {
  const { name, code } = err;
  const unreachable = typeof code === 'string' && NETWORK.test(code) && !('$metadata' in err);
  const sesCode = unreachable
    ? 'SES_UNREACHABLE'
    : typeof name === 'string' && EXCEPTION_NAME.test(name)
      ? name
      : 'Unknown';
  const why = unreachable ? 'SES could not be reached' : `SES refused GetEmailTemplate (${sesCode})`;
  return new BulkEmailError(
    'SES_ERROR',
    `${why}, so the template could not be checked; allow ses:GetEmailTemplate, retry later, or set renderCheck: 'permissive'`,
    { details: { ses_code: sesCode } },
  );
}

export function renderPolicyStep<P extends Principal>(ctx: RouteContext<P>): AcceptStep<P> | undefined {
  const { config } = ctx;
  const mode = config.renderCheck;
  if (mode === 'off') return undefined;
  return async (draft) => {
    const check = await renderCheck(draft.request, {
      mode,
      merge: config.mergeTemplateData,
      fetchStoredTemplate: ctx.fetchStoredTemplate,
      variablesOf: ctx.variablesOf,
      parsed: draft.parsed,
    });
    // Strict means nothing goes out unchecked: SES refused to show the stored template, so refuse the request.
    if (mode === 'strict' && fromSes(check.fetchError)) throw templateFetchRefused(check.fetchError);
    if (check.skipped) {
      config.logger.warn(
        { code: 'EBE_RENDER_CHECK_SKIPPED', reason: check.skipped },
        'express-bulk-email: render check skipped',
      );
    }
    if (mode === 'strict') {
      const problems = [...check.templateProblems, ...check.details];
      if (problems.length) throw validationError(problems);
      return;
    }
    if (check.templateProblems.length) {
      config.logger.warn(
        { code: 'EBE_INLINE_TEMPLATE', problems: check.templateProblems },
        'express-bulk-email: the inline template uses constructs SES does not render',
      );
    }
    if (check.invalid.size === 0) return;
    const kept: IndexedEntry[] = [];
    const refused: EntryResult[] = [];
    for (const item of draft.entries) {
      const error = check.invalid.get(item.index);
      if (error === undefined) kept.push(item);
      else
        refused.push({
          index: item.index,
          status: 'INVALID_PARAMETER',
          error: { code: 'INVALID_PARAMETER', message: error },
          attempts: 0,
        });
    }
    draft.entries = kept;
    draft.initial = mergeByIndex(draft.initial, refused);
  };
}

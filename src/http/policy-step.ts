// A per-principal policy hook (senders, resources) as an accept step: 403 FORBIDDEN listing what it does not allow.
import { BulkEmailError, type ValidationDetail } from '../errors.js';
import type { HookContext, Principal, SendBulkEmailRequest } from '../types.js';
import type { AcceptStep } from './draft.js';

/**
 * Asks `hook` what the principal may use (nothing given = no restriction) and refuses the request, 403 with one
 * detail per field, when `violations` finds anything it names outside that. Undefined when the hook is not set.
 */
export function policyStep<P extends Principal, G>(
  hook: ((principal: P, ctx: HookContext<P>) => G | null | undefined | Promise<G | null | undefined>) | undefined,
  violations: (request: SendBulkEmailRequest, grants: G) => ValidationDetail[],
): AcceptStep<P> | undefined {
  if (!hook) return undefined;
  return async ({ hook: ctx }) => {
    const grants = await hook(ctx.principal, ctx);
    if (grants === null || grants === undefined) return;
    const problems = violations(ctx.request, grants);
    if (problems.length) throw new BulkEmailError('FORBIDDEN', problems[0].message, { details: problems });
  };
}

// The `senders` policy: may this principal send From / forward feedback to these identities?
import type { Principal, SendBulkEmailRequest } from '../types.js';
import type { RouteContext } from './context.js';
import type { AcceptStep } from './draft.js';
import { policyStep } from './policy-step.js';

/** `Name <a@b.com>` or `a@b.com` → `a@b.com`, lower-cased. */
export function addressOf(value: string): string {
  const angle = /<([^<>]*)>\s*$/.exec(value);
  return (angle ? angle[1] : value).trim().toLowerCase();
}

function addressAllowed(address: string, allowed: readonly string[]): boolean {
  const domain = address.slice(address.lastIndexOf('@'));
  return allowed.some((rule) => {
    const r = rule.trim().toLowerCase();
    return r.startsWith('@') ? r === domain : r === address;
  });
}

/** Every identity in the request that the allowed list does not cover, as `{ path, message }`. */
export function senderViolations(
  request: SendBulkEmailRequest,
  allowed: readonly string[],
): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  for (const field of ['FromEmailAddress', 'FeedbackForwardingEmailAddress'] as const) {
    const value = request[field];
    if (value !== undefined && !addressAllowed(addressOf(value), allowed)) {
      problems.push({ path: `/${field}`, message: `you may not use ${addressOf(value)} as ${field}` });
    }
  }
  for (const field of ['FromEmailAddressIdentityArn', 'FeedbackForwardingEmailAddressIdentityArn'] as const) {
    const value = request[field];
    if (value !== undefined && !allowed.includes(value)) {
      problems.push({ path: `/${field}`, message: `you may not use the identity ${value}` });
    }
  }
  return problems;
}

/** The accept step: 403 FORBIDDEN listing every identity the `senders` hook does not allow. */
export function sendersStep<P extends Principal>(ctx: RouteContext<P>): AcceptStep<P> | undefined {
  return policyStep(ctx.config.senders, senderViolations);
}

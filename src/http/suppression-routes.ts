// GET /suppressions, PUT and DELETE /suppressions/:address: the principal's own suppression list.
import type { Request, Response } from 'express';
import { ok } from '../envelope.js';
import { validationError } from '../errors.js';
import type { Principal, SuppressedAddress } from '../types.js';
import type { SuppressionView } from '../wire-types.js';
import { type RouteContext, principalOf } from './context.js';
import { parseLimit } from './pagination.js';

const MAX_ADDRESS = 320;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
const NOT_IN_ADDRESS = /[\s\u0000-\u001f\u007f<>,;]/;

/** The path's address, lower-cased; 400 naming `address` unless it is one bare address of sane length. */
function bareAddress(value: unknown): string {
  const address = typeof value === 'string' ? value.trim().toLowerCase() : '';
  const at = address.lastIndexOf('@');
  if (address.length > MAX_ADDRESS || at < 1 || at === address.length - 1 || NOT_IN_ADDRESS.test(address)) {
    throw validationError({
      path: '/address',
      message: `address must be one email address such as user@example.com (at most ${MAX_ADDRESS} characters, no display name)`,
    });
  }
  return address;
}

function encodeCursor(address: string): string {
  return Buffer.from(`a:${address}`).toString('base64url');
}

/** The address after which the page starts (null for the first page). */
function decodeCursor(cursor: unknown): string | null {
  if (cursor === undefined) return null;
  if (typeof cursor === 'string' && /^[A-Za-z0-9_-]{1,500}$/.test(cursor)) {
    const text = Buffer.from(cursor, 'base64url').toString();
    if (text.startsWith('a:') && text.length > 2) return text.slice(2);
  }
  throw validationError({ path: '/cursor', message: 'cursor is not one this API returned' });
}

export function suppressionView(entry: SuppressedAddress): SuppressionView {
  const view: SuppressionView = { address: entry.address, reason: entry.reason, created_at: entry.at };
  if (entry.messageId) view.message_id = entry.messageId;
  return view;
}

export function listSuppressionsHandler<P extends Principal>(ctx: RouteContext<P>) {
  return async (req: Request, res: Response): Promise<void> => {
    const principal = await principalOf(ctx, req);
    const limit = parseLimit(req.query.limit);
    const after = decodeCursor(req.query.cursor);
    const found = await ctx.config.store.listSuppressions(ctx.feedback.listOf(principal.id), after, limit + 1);
    const page = found.slice(0, limit);
    const last = page.at(-1);
    res.json(
      ok({
        suppressions: page.map(suppressionView),
        next_cursor: found.length > limit && last ? encodeCursor(last.address) : null,
      }),
    );
  };
}

export function putSuppressionHandler<P extends Principal>(ctx: RouteContext<P>) {
  return async (req: Request, res: Response): Promise<void> => {
    const principal = await principalOf(ctx, req);
    const address = bareAddress(req.params.address);
    const at = new Date(ctx.config.clock.now()).toISOString();
    await ctx.feedback.suppress(principal.id, [{ address, reason: 'MANUAL', at }]);
    const [listed] = await ctx.config.store.findSuppressions(ctx.feedback.listOf(principal.id), [address]);
    res.json(ok(suppressionView(listed ?? { address, reason: 'MANUAL', at })));
  };
}

export function deleteSuppressionHandler<P extends Principal>(ctx: RouteContext<P>) {
  return async (req: Request, res: Response): Promise<void> => {
    const principal = await principalOf(ctx, req);
    const address = bareAddress(req.params.address);
    const removed = await ctx.config.store.removeSuppression(ctx.feedback.listOf(principal.id), address);
    if (removed) {
      ctx.config.logger.info(
        { principalId: principal.id },
        'express-bulk-email: address taken off the suppression list',
      );
    }
    res.json(ok({ address, removed }));
  };
}

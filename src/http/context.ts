// What the route handlers share: the resolved config, the compiled validator and the sending engine.
import type { Request } from 'express';
import { BulkEmailError } from '../errors.js';
import type { RouterConfig } from '../options.js';
import type { Principal } from '../types.js';
import type { RequestValidator } from '../validation/validator.js';

export interface Engine {
  /** Recipients per second the senders currently use, when known. */
  rate(): number | undefined;
  close(): Promise<void>;
}

export interface RouteContext<P extends Principal = Principal> {
  config: RouterConfig<P>;
  validator: RequestValidator;
  engine: Engine;
}

/** Runs `authenticate`; UNAUTHORIZED without a principal, INTERNAL_ERROR for a principal without an id. */
export async function principalOf<P extends Principal>(ctx: RouteContext<P>, req: Request): Promise<P> {
  const principal = await ctx.config.authenticate(req);
  if (principal === null || principal === undefined || (principal as unknown) === false) {
    throw new BulkEmailError('UNAUTHORIZED', 'Missing or invalid credentials');
  }
  if (typeof principal !== 'object' || typeof principal.id !== 'string' || principal.id.length === 0) {
    throw new TypeError('authenticate() returned a principal without a string id');
  }
  return principal;
}

// allowAnonymous(): an authenticate hook that lets everyone in as one principal, for local demos only.
import type { AuthenticateHook, Principal } from './types.js';

export function allowAnonymous(id = 'anonymous'): AuthenticateHook<Principal> {
  return () => ({ id });
}

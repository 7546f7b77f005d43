// Job ids: issued as random UUIDs, and recognised by their shape before any store is asked about one.
import { randomUUID } from 'node:crypto';

/** The shape of every id `newJobId()` issues: a lower-case version 4 UUID. */
const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * A new job id. randomUUID() builds its string by concatenation, which V8 keeps as a tree of pieces (~480 bytes) for
 * as long as the string lives, and a stored job keeps its id; `toLowerCase()` (a no-op: the UUID is lower-case hex)
 * returns it as one flat string (~60 bytes).
 */
export function newJobId(): string {
  return randomUUID().toLowerCase();
}

/** True when `id` could have been issued by `newJobId()`; anything else names no job and never reaches a store. */
export function isJobId(id: string): boolean {
  return id.length === 36 && JOB_ID.test(id);
}

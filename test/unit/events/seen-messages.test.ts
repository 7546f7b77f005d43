// memorySeenMessages(): repeats within the TTL are seen, expired ids are not, and the map never outgrows its bound.
import { describe, expect, it } from 'vitest';
import { memorySeenMessages } from '../../../src/events/seen-messages.js';

describe('memorySeenMessages', () => {
  it('says a repeat within the TTL was seen, and forgets after the TTL or when told', async () => {
    let now = 0;
    const seen = memorySeenMessages({ now: () => now });
    expect(await seen.seen('a', 1000)).toBe(false);
    expect(await seen.seen('a', 1000)).toBe(true);
    now = 999;
    expect(await seen.seen('a', 1000)).toBe(true);
    now = 1000;
    expect(await seen.seen('a', 1000)).toBe(false);
    await seen.forget('a');
    expect(await seen.seen('a', 1000)).toBe(false);
  });

  it('keeps at most maxEntries ids, dropping the oldest first', async () => {
    const seen = memorySeenMessages({ maxEntries: 3, now: () => 0 });
    for (const id of ['a', 'b', 'c', 'd']) expect(await seen.seen(id, 60_000)).toBe(false);
    // a was dropped to make room for d; b, c, d are still known
    expect(await seen.seen('d', 60_000)).toBe(true);
    expect(await seen.seen('c', 60_000)).toBe(true);
    expect(await seen.seen('a', 60_000)).toBe(false);
  });

  it('treats ids older than their TTL as new, among many', async () => {
    let now = 0;
    const seen = memorySeenMessages({ maxEntries: 1_000_000, now: () => now });
    for (let i = 0; i < 10_000; i++) {
      now = i;
      await seen.seen(`id-${i}`, 100);
    }
    // only the last 100 ms of ids are live; an old one is new again, a recent one is a repeat
    expect(await seen.seen('id-5', 100)).toBe(false);
    expect(await seen.seen('id-9999', 100)).toBe(true);
  });
});

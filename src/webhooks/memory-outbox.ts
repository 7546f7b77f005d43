// memoryOutbox(): the webhook outbox in this process's memory (lost on restart), bounded in messages.
import { randomUUID } from 'node:crypto';
import type { LeasedWebhookMessage, WebhookMessage, WebhookOutbox } from '../types.js';

export interface MemoryOutboxOptions {
  /** Messages kept at most; `add` refuses more (and the delivery engine logs it). Default 100,000. */
  maxMessages?: number;
}

interface Slot {
  message: WebhookMessage;
  lease: string | null;
  leaseUntil: number;
}

/**
 * Single-threaded, so every method is atomic. `due` scans every message (O(n), about 1 ms per 100,000): simple, and
 * the bound keeps it small; a durable outbox belongs in the store (Redis) anyway.
 */
export function memoryOutbox(options: MemoryOutboxOptions = {}): WebhookOutbox {
  const maxMessages = options.maxMessages ?? 100_000;
  const slots = new Map<string, Slot>();
  const disabled = new Set<string>();
  const leased = (id: string, lease: string) => {
    const slot = slots.get(id);
    return slot && slot.lease === lease ? slot : undefined;
  };
  return {
    async add(message) {
      if (disabled.has(message.url)) return 'disabled';
      if (slots.has(message.id)) return 'duplicate';
      if (slots.size >= maxMessages) return 'full';
      slots.set(message.id, { message: { ...message }, lease: null, leaseUntil: 0 });
      return 'added';
    },
    async due(now, limit, leaseMs) {
      const ready: Slot[] = [];
      for (const slot of slots.values()) {
        if (slot.message.nextAt <= now && (slot.lease === null || slot.leaseUntil <= now)) ready.push(slot);
      }
      ready.sort((a, b) => a.message.nextAt - b.message.nextAt);
      return ready.slice(0, Math.max(0, limit)).map((slot): LeasedWebhookMessage => {
        slot.lease = randomUUID();
        slot.leaseUntil = now + leaseMs;
        return { ...slot.message, lease: slot.lease };
      });
    },
    async remove(id, lease) {
      if (leased(id, lease)) slots.delete(id);
    },
    async reschedule(id, lease, at) {
      const slot = leased(id, lease);
      if (!slot) return;
      slot.message.attempts += 1;
      slot.message.nextAt = at;
      slot.lease = null;
    },
    async disable(url) {
      disabled.add(url);
      for (const [id, slot] of slots) if (slot.message.url === url) slots.delete(id);
    },
    async enable(url) {
      disabled.delete(url);
    },
    async close() {
      slots.clear();
    },
  };
}

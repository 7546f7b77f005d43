// The contract every webhook outbox passes (memory now, Redis later): leases, due order, reschedule, disable.
import type { TestApi } from './test-api.js';
import type { WebhookMessage, WebhookOutbox } from '../types.js';

function message(id: string, nextAt: number, url = 'https://hooks.example.com/a'): WebhookMessage {
  return {
    id,
    principalId: 'p1',
    url,
    type: 'job.completed',
    body: `{"id":"${id}"}`,
    createdAt: 0,
    attempts: 0,
    nextAt,
  };
}

export function describeWebhookOutboxContract(
  t: TestApi,
  name: string,
  create: () => Promise<WebhookOutbox> | WebhookOutbox,
): void {
  const { afterEach, beforeEach, describe, expect, it } = t;
  describe(`webhook outbox contract: ${name}`, () => {
    let outbox: WebhookOutbox;
    beforeEach(async () => {
      outbox = await create();
    });
    afterEach(async () => {
      await outbox.close();
    });

    it('adds once per id and hands out only what is due, earliest first, up to the limit', async () => {
      expect(await outbox.add(message('b', 200))).toBe('added');
      expect(await outbox.add(message('a', 100))).toBe('added');
      expect(await outbox.add(message('c', 300))).toBe('added');
      expect(await outbox.add(message('a', 100))).toBe('duplicate');
      expect(await outbox.due(50, 10, 1_000)).toEqual([]);
      const due = await outbox.due(250, 10, 1_000);
      expect(due.map((m) => m.id)).toEqual(['a', 'b']);
      expect(due[0]).toMatchObject({ body: '{"id":"a"}', attempts: 0, url: 'https://hooks.example.com/a' });
      expect(typeof due[0].lease).toBe('string');
      const limited = await outbox.due(1_000, 1, 1_000);
      expect(limited.map((m) => m.id)).toEqual(['c']);
    });

    it('a leased message is not handed out again until its lease runs out (a dead deliverer)', async () => {
      await outbox.add(message('a', 0));
      const [first] = await outbox.due(10, 10, 1_000);
      expect(await outbox.due(500, 10, 1_000)).toEqual([]);
      const [again] = await outbox.due(1_010, 10, 1_000);
      expect(again.id).toBe('a');
      expect(again.lease).not.toBe(first.lease);
      // The dead deliverer's late answer changes nothing: its lease is gone.
      await outbox.remove('a', first.lease);
      await outbox.reschedule('a', first.lease, 99_999);
      const [still] = await outbox.due(3_000, 10, 1_000);
      expect(still).toMatchObject({ id: 'a', attempts: 0 });
    });

    it('reschedule counts the attempt and makes the message due at the given time', async () => {
      await outbox.add(message('a', 0));
      const [m] = await outbox.due(0, 10, 60_000);
      await outbox.reschedule(m.id, m.lease, 5_000);
      expect(await outbox.due(4_999, 10, 60_000)).toEqual([]);
      const [again] = await outbox.due(5_000, 10, 60_000);
      expect(again).toMatchObject({ id: 'a', attempts: 1, nextAt: 5_000 });
    });

    it('remove forgets a delivered message', async () => {
      await outbox.add(message('a', 0));
      const [m] = await outbox.due(0, 10, 1);
      await outbox.remove(m.id, m.lease);
      expect(await outbox.due(10_000, 10, 1)).toEqual([]);
    });

    it('disable drops the URL’s waiting messages (leased too) and refuses new ones until enable', async () => {
      const gone = 'https://gone.example.com/';
      await outbox.add(message('a', 0, gone));
      await outbox.add(message('b', 0, gone));
      await outbox.add(message('c', 0));
      const leased = await outbox.due(0, 1, 60_000);
      await outbox.disable(gone);
      expect(await outbox.add(message('d', 0, gone))).toBe('disabled');
      await outbox.reschedule(leased[0].id, leased[0].lease, 0);
      expect((await outbox.due(100_000, 10, 1)).map((m) => m.id)).toEqual(['c']);
      await outbox.enable(gone);
      expect(await outbox.add(message('d', 0, gone))).toBe('added');
    });
  });
}

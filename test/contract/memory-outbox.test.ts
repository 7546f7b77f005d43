// The memory webhook outbox passes the outbox contract, and refuses messages beyond its bound.
import { expect, it } from 'vitest';
import * as vitest from 'vitest';
import { memoryOutbox } from '../../src/webhooks/memory-outbox.js';
import { describeWebhookOutboxContract } from '../../src/testing/index.js';

describeWebhookOutboxContract(vitest, 'memory', () => memoryOutbox());

it('memoryOutbox({ maxMessages }) refuses the message past the bound', async () => {
  const outbox = memoryOutbox({ maxMessages: 2 });
  const m = (id: string) => ({
    id,
    principalId: 'p',
    url: 'https://h/',
    type: 'job.completed' as const,
    body: '{}',
    createdAt: 0,
    attempts: 0,
    nextAt: 0,
  });
  expect([await outbox.add(m('a')), await outbox.add(m('b')), await outbox.add(m('c'))]).toEqual([
    'added',
    'added',
    'full',
  ]);
});

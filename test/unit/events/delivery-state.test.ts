// mergeDelivery(): latest wins, bounces and complaints stay, opens and clicks counted, any order, any repeats.
import { describe, expect, it } from 'vitest';
import { deliveryView } from '../../../src/envelope.js';
import { type DeliveryState, MAX_REMEMBERED_EVENTS, mergeDelivery } from '../../../src/events/delivery-state.js';
import type { DeliveryStatus, DeliveryUpdate } from '../../../src/events/ses-event.js';

const T = (minute: number) => new Date(Date.UTC(2026, 11, 1, 12, minute)).toISOString();
let n = 0;
function event(status: DeliveryStatus | 'OPEN' | 'CLICK' | 'SEND', minute: number, key = `k${++n}`): DeliveryUpdate {
  const base = { key, messageId: 'm-1', at: T(minute), recipients: ['a@example.org'] };
  switch (status) {
    case 'OPEN':
      return { ...base, type: 'Open', opened: true };
    case 'CLICK':
      return { ...base, type: 'Click', clicked: true, link: 'https://x.example/' };
    case 'SEND':
      return { ...base, type: 'Send' };
    default:
      return { ...base, type: 'Delivery', status, detail: { reason: `${status} at ${minute}` } };
  }
}

const fold = (events: DeliveryUpdate[], start?: DeliveryState) =>
  events.reduce<DeliveryState | undefined>((state, e) => mergeDelivery(state, e).state, start);
const statusOf = (events: DeliveryUpdate[]) => {
  const state = fold(events);
  return state?.status && `${state.status}@${state.at?.slice(14, 16)}`;
};

describe('mergeDelivery: which status an entry ends with', () => {
  const cases: [string, DeliveryUpdate[], string | undefined][] = [
    ['nothing known', [], undefined],
    ['a send says nothing about delivery', [event('SEND', 0)], undefined],
    ['delivered', [event('DELIVERED', 1)], 'DELIVERED@01'],
    ['delayed, then delivered', [event('DELAYED', 1), event('DELIVERED', 5)], 'DELIVERED@05'],
    ['delivered, then an older delay arrives', [event('DELIVERED', 5), event('DELAYED', 1)], 'DELIVERED@05'],
    [
      'delivered to one recipient, later delayed for another: latest wins',
      [event('DELIVERED', 1), event('DELAYED', 5)],
      'DELAYED@05',
    ],
    ['delivered, then bounced', [event('DELIVERED', 1), event('BOUNCED', 5)], 'BOUNCED@05'],
    ['bounced, then a later delivery: the bounce stays', [event('BOUNCED', 1), event('DELIVERED', 5)], 'BOUNCED@01'],
    [
      'a later delivery arrives before the bounce: the bounce stays',
      [event('DELIVERED', 5), event('BOUNCED', 1)],
      'BOUNCED@01',
    ],
    [
      'complained, then a later delivery: the complaint stays',
      [event('COMPLAINED', 3), event('DELIVERED', 9)],
      'COMPLAINED@03',
    ],
    ['bounced, then complained: the first stays', [event('BOUNCED', 1), event('COMPLAINED', 5)], 'BOUNCED@01'],
    ['complained, then bounced: the first stays', [event('COMPLAINED', 1), event('BOUNCED', 5)], 'COMPLAINED@01'],
    [
      'whichever of bounce and complaint happened first stays, whatever the arrival order',
      [event('COMPLAINED', 5), event('BOUNCED', 1)],
      'BOUNCED@01',
    ],
    ['rejected', [event('REJECTED', 0)], 'REJECTED@00'],
    ['rendering failure', [event('RENDERING_FAILURE', 0)], 'RENDERING_FAILURE@00'],
    ['same millisecond: the more final outcome wins', [event('REJECTED', 2), event('DELIVERED', 2)], 'REJECTED@02'],
    ['same millisecond, other arrival order', [event('DELIVERED', 2), event('REJECTED', 2)], 'REJECTED@02'],
    [
      'opens and clicks leave the status alone',
      [event('DELIVERED', 1), event('OPEN', 9), event('CLICK', 10)],
      'DELIVERED@01',
    ],
  ];
  it.each(cases)('%s', (_name, events, expected) => {
    expect(statusOf(events)).toBe(expected);
  });
});

describe('mergeDelivery', () => {
  it('keeps the detail of the event behind the status', () => {
    const state = fold([event('DELIVERED', 1), event('BOUNCED', 2), event('DELIVERED', 3)]);
    expect(state?.detail).toEqual({ reason: 'BOUNCED at 2' });
    const plain = fold([event('BOUNCED', 1)]);
    const withoutDetail = mergeDelivery(plain, { ...event('COMPLAINED', 0), detail: undefined }).state;
    expect(withoutDetail.status).toBe('COMPLAINED');
    expect(withoutDetail.detail).toBeUndefined();
  });

  it('counts opens and clicks, once per event', () => {
    const open = event('OPEN', 5);
    const click = event('CLICK', 6);
    const state = fold([open, open, event('OPEN', 7), click, click, open]);
    expect(state).toMatchObject({ opened: 2, clicked: 1 });
  });

  it('says a repeated event is a duplicate and returns the same state (nothing to count again)', () => {
    const bounce = event('BOUNCED', 1);
    const first = mergeDelivery(undefined, bounce);
    expect(first).toMatchObject({ duplicate: false, statusChanged: true });
    const again = mergeDelivery(first.state, bounce);
    expect(again).toEqual({ state: first.state, duplicate: true, statusChanged: false });
  });

  it('says whether the status changed', () => {
    const delivered = mergeDelivery(undefined, event('DELIVERED', 1));
    expect(delivered.statusChanged).toBe(true);
    expect(mergeDelivery(delivered.state, event('OPEN', 2)).statusChanged).toBe(false);
    expect(mergeDelivery(delivered.state, event('DELAYED', 0)).statusChanged).toBe(false);
    expect(mergeDelivery(delivered.state, event('BOUNCED', 3)).statusChanged).toBe(true);
  });

  it('never mutates the state it is given', () => {
    const state = fold([event('DELIVERED', 1)]) as DeliveryState;
    const copy = structuredClone(state);
    mergeDelivery(state, event('BOUNCED', 2));
    mergeDelivery(state, event('OPEN', 3));
    expect(state).toEqual(copy);
  });

  it(`remembers the last ${MAX_REMEMBERED_EVENTS} events, no more`, () => {
    const opens = Array.from({ length: 100 }, (_, i) => event('OPEN', i % 60));
    const state = fold(opens) as DeliveryState;
    expect(state.opened).toBe(100);
    expect(state.keys).toHaveLength(MAX_REMEMBERED_EVENTS);
    expect(mergeDelivery(state, opens[99]).duplicate).toBe(true);
  });

  it('ends in the same state whatever the arrival order, with any repeats (every permutation of six events)', () => {
    const events = [
      event('SEND', 0),
      event('DELAYED', 1),
      event('DELIVERED', 2),
      event('OPEN', 3),
      event('BOUNCED', 4),
      event('CLICK', 5),
    ];
    const shown = (s: DeliveryState | undefined) => ({
      status: s?.status,
      at: s?.at,
      detail: s?.detail,
      opened: s?.opened,
      clicked: s?.clicked,
      keys: [...(s?.keys ?? [])].sort(),
    });
    const expected = shown(fold(events));
    expect(expected).toMatchObject({ status: 'BOUNCED', at: T(4), opened: 1, clicked: 1 });
    const permutations = (list: DeliveryUpdate[]): DeliveryUpdate[][] =>
      list.length <= 1
        ? [list]
        : list.flatMap((e, i) => permutations([...list.slice(0, i), ...list.slice(i + 1)]).map((p) => [e, ...p]));
    const all = permutations(events);
    expect(all).toHaveLength(720);
    for (const order of all) {
      expect(shown(fold([...order, order[0], order[3]]))).toEqual(expected);
    }
  });
});

describe('deliveryView', () => {
  it('is undefined until SES reported an outcome', () => {
    expect(deliveryView(undefined)).toBeUndefined();
    expect(deliveryView(fold([event('OPEN', 1)]))).toBeUndefined();
  });

  it('shows status, time and the detail in snake_case', () => {
    const state = mergeDelivery(undefined, {
      key: 'k',
      messageId: 'm',
      type: 'Bounce',
      at: T(1),
      recipients: ['a@example.org'],
      status: 'BOUNCED',
      detail: { bounceType: 'Permanent', bounceSubType: 'NoEmail', diagnosticCode: 'smtp; 550', smtpStatus: '5.1.1' },
    }).state;
    expect(deliveryView(state)).toEqual({
      status: 'BOUNCED',
      at: T(1),
      detail: {
        bounce_type: 'Permanent',
        bounce_sub_type: 'NoEmail',
        diagnostic_code: 'smtp; 550',
        smtp_status: '5.1.1',
      },
    });
  });
});

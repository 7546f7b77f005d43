// detailList(), cappedDetails() and validationError(): every list of problems is at most 100 and one count.
import { describe, expect, it } from 'vitest';
import { cappedDetails, detailList, MAX_DETAILS, type ValidationDetail, validationError } from '../../src/errors.js';

const detail = (i: number): ValidationDetail => ({ path: `/x/${i}`, message: `problem ${i}` });

describe('detailList', () => {
  it('lists the first max, counts the rest, and builds nothing past the cap', () => {
    const list = detailList(3);
    let built = 0;
    for (let i = 0; i < 10; i++) {
      list.add(() => {
        built += 1;
        return detail(i);
      });
    }
    expect(built).toBe(3);
    expect(list.count).toBe(10);
    expect(list.full).toBe(true);
    expect(list.list()).toEqual([
      detail(0),
      detail(1),
      detail(2),
      { path: '', message: '7 more problems not listed (showing the first 3)' },
    ]);
    expect(list.list((more) => ({ path: '/x', message: `${more} more` })).at(-1)).toEqual({
      path: '/x',
      message: '7 more',
    });
  });

  it('adds no summary while everything is listed; skip() counts problems listed elsewhere', () => {
    const list = detailList(3);
    list.add(detail(0));
    expect(list.list()).toEqual([detail(0)]);
    list.skip(1);
    expect(list.full).toBe(false);
    expect(list.list()).toEqual([detail(0), { path: '', message: '1 more problem not listed (showing the first 3)' }]);
  });
});

describe('validationError and cappedDetails', () => {
  it('cuts a hook’s 300,000 problems to 100 and a count', () => {
    const all = Array.from({ length: 300_000 }, (_, i) => detail(i));
    const err = validationError(all);
    expect(err.message).toBe('300000 problems in the request');
    const details = err.details as ValidationDetail[];
    expect(details).toHaveLength(MAX_DETAILS + 1);
    expect(details[100]).toEqual({ path: '', message: '299900 more problems not listed (showing the first 100)' });
  });

  it('leaves lists of up to 101 and anything that is not a list alone', () => {
    const list = Array.from({ length: 101 }, (_, i) => detail(i));
    expect(cappedDetails(list)).toBe(list);
    const object = { ses_code: 'X' };
    expect(cappedDetails(object)).toBe(object);
    expect(cappedDetails(undefined)).toBeUndefined();
  });
});

// The request validator against every fixture, plus its bounds: hostile keys, deep nesting, huge input, speed.
import { describe, expect, it } from 'vitest';
import { createValidator } from '../../src/validation/validator.js';
import { sendBulkEmailSchema } from '../../src/validation/schema.js';
import { loadInvalidFixtures, loadValidFixtures } from '../fixtures/load-fixtures.js';

const validator = createValidator();
const POINTER = /^(\/([^~/]|~[01])*)*$/;

function parse(body: unknown): unknown {
  return typeof body === 'string' ? JSON.parse(body) : body;
}

function validBody(entries = 1): Record<string, unknown> {
  const body = loadValidFixtures().find((f) => f.name === 'inline-template')?.body as Record<string, unknown>;
  body.BulkEmailEntries = Array.from({ length: entries }, (_, i) => ({
    Destination: { ToAddresses: [`user${i}@example.com`] },
    ReplacementEmailContent: {
      ReplacementTemplate: {
        ReplacementTemplateData: `{"name":"user ${i}","code":"C${i}"}`,
      },
    },
  }));
  return body;
}

describe('valid fixtures', () => {
  const fixtures = loadValidFixtures();
  it('there are some', () => expect(fixtures.length).toBeGreaterThanOrEqual(5));
  it.each(fixtures.map((f) => [f.name, f] as const))('%s is valid', (_name, fixture) => {
    expect(validator(fixture.body)).toEqual([]);
  });
});

describe('invalid fixtures: one per rule, every expected problem reported and nothing else', () => {
  const fixtures = loadInvalidFixtures();
  it('there is one per rule', () => expect(fixtures.length).toBeGreaterThanOrEqual(30));
  it.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, fixture) => {
    const details = validator(parse(fixture.body));
    for (const expected of fixture.expect) {
      const match = details.find((d) => d.path === expected.path && d.message.includes(expected.message));
      expect(match, `${JSON.stringify(expected)} in ${JSON.stringify(details, null, 1)}`).toBeDefined();
    }
    expect(details).toHaveLength(fixture.expect.length);
    for (const detail of details) expect(detail.path).toMatch(POINTER);
  });
});

describe('hostile input', () => {
  it('__proto__ and constructor keys pollute no prototype', () => {
    const body = JSON.parse(
      '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"DefaultContent":{"__proto__":{"polluted":1}}}',
    );
    const details = validator(body);
    expect(details.map((d) => d.path)).toEqual(
      expect.arrayContaining(['/__proto__', '/constructor', '/DefaultContent/__proto__', '/BulkEmailEntries']),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('escapes unknown field names in the pointer (RFC 6901)', () => {
    const body = { ...validBody(), 'a/b~c': 1 };
    expect(validator(body)).toEqual([{ path: '/a~1b~0c', message: 'unknown field "a/b~c"' }]);
  });

  it('does not echo a huge unknown field name: it points at the object and shortens the name', () => {
    const name = 'k'.repeat(100_000);
    const [detail] = validator({ ...validBody(), [name]: 1 });
    expect(detail.path).toBe('');
    expect(detail.message.length).toBeLessThan(200);
    expect(detail.message).toContain('100000-character name');
  });

  it('survives nesting a million levels deep anywhere in the body', () => {
    const deep = '['.repeat(1_000_000) + ']'.repeat(1_000_000);
    const raw = JSON.stringify(validBody()).replace('"user0@example.com"', deep);
    const details = validator(JSON.parse(raw));
    expect(details).toEqual([
      {
        path: '/BulkEmailEntries/0/Destination/ToAddresses/0',
        message: 'must be a string (got an array)',
      },
    ]);
  });

  it('rejects non-object bodies', () => {
    for (const body of [null, [], 'text', 42, true]) {
      expect(validator(body)).toEqual([{ path: '', message: expect.stringMatching(/^must be an object/) }]);
    }
  });
});

describe('bounded work', () => {
  it('validates a 10,000-entry valid body in a few tens of ms', () => {
    const body = validBody(10_000);
    validator(body); // warm up
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      expect(validator(body)).toEqual([]);
      times.push(performance.now() - start);
    }
    const median = times.sort((a, b) => a - b)[2];
    console.log(`validate(10,000 entries): median ${median.toFixed(1)} ms`);
    expect(median).toBeLessThan(150); // ~10-25 ms on a laptop; generous for slow CI machines
  });

  it('caps the details: the first 100 and one saying how many more', () => {
    const body = validBody(10_001);
    body.BulkEmailEntries = (body.BulkEmailEntries as unknown[]).map(() => ({
      Destination: { ToAddresses: Array(60).fill('') },
    }));
    const start = performance.now();
    const details = validator(body);
    expect(performance.now() - start).toBeLessThan(1000);
    expect(details).toHaveLength(101);
    expect(details[0]).toEqual({
      path: '/BulkEmailEntries',
      message: 'must contain at most 10000 entries (got 10001)',
    });
    expect(details[100]).toEqual({
      path: '',
      message: expect.stringMatching(/^at least \d+ more problems not listed/),
    });
  });

  it('counts the problems left out exactly when there are not too many', () => {
    const body = validBody(120);
    body.BulkEmailEntries = (body.BulkEmailEntries as unknown[]).map(() => ({
      Destination: { ToAddresses: ['bad'] },
    }));
    const details = validator(body);
    expect(details).toHaveLength(101);
    expect(details[100]).toEqual({
      path: '',
      message: '20 more problems not listed (showing the first 100)',
    });
  });

  it('does not walk arrays far past their limit', () => {
    const body = validBody();
    body.DefaultEmailTags = Array(2_000_000).fill({});
    body.BulkEmailEntries = [{ Destination: { ToAddresses: Array(2_000_000).fill('') } }];
    const start = performance.now();
    const details = validator(body);
    expect(performance.now() - start).toBeLessThan(500);
    expect(details[0]).toEqual({
      path: '/DefaultEmailTags',
      message: 'must contain at most 50 tags (got 2000000)',
    });
    expect(details.length).toBeLessThanOrEqual(101);
  });

  it('cuts huge strings before running patterns (V8 overflows its stack on some ~16 MB inputs)', () => {
    const huge = 'a.'.repeat(10_000_000);
    const body = {
      ...validBody(),
      FromEmailAddress: huge,
      EndpointId: huge,
      BulkEmailEntries: [{ Destination: { ToAddresses: [huge] } }],
    };
    const details = validator(body);
    expect(details).toEqual(
      expect.arrayContaining([
        { path: '/FromEmailAddress', message: 'must be at most 320 characters long (got 20000000)' },
        { path: '/EndpointId', message: 'must be at most 253 characters long (got 20000000)' },
        {
          path: '/BulkEmailEntries/0/Destination/ToAddresses/0',
          message: 'must be at most 254 characters long (got 20000000)',
        },
      ]),
    );
  });

  it('takes maxDetails', () => {
    const details = createValidator({ maxDetails: 2 })({
      ...validBody(),
      A: 1,
      B: 2,
      C: 3,
      D: 4,
    });
    expect(details).toEqual([
      { path: '/A', message: 'unknown field "A"' },
      { path: '/B', message: 'unknown field "B"' },
      { path: '', message: '2 more problems not listed (showing the first 2)' },
    ]);
  });
});

describe('options and schema', () => {
  it('takes maxEntries', () => {
    const small = createValidator({ maxEntries: 2 });
    expect(small(validBody(2))).toEqual([]);
    expect(small(validBody(3))).toEqual([
      {
        path: '/BulkEmailEntries',
        message: 'must contain at most 2 entries (got 3)',
      },
    ]);
  });

  it('compiles the schema object it is given, which is frozen', () => {
    const schema = sendBulkEmailSchema({ maxEntries: 5 });
    const v = createValidator({ schema });
    expect(v.schema).toBe(schema);
    expect(Object.isFrozen(schema)).toBe(true);
    expect(Object.isFrozen(schema.properties.BulkEmailEntries.items)).toBe(true);
    expect(schema.properties.BulkEmailEntries.maxItems).toBe(5);
  });

  it('refuses a bad maxEntries at build time', () => {
    expect(() => createValidator({ maxEntries: 0 })).toThrow(TypeError);
    expect(() => sendBulkEmailSchema({ maxEntries: 1.5 })).toThrow(/positive integer/);
  });

  it('accepts display names only where SES does (From, Reply-To)', () => {
    const body = {
      ...validBody(),
      FromEmailAddress: 'Sender Name <s@example.com>',
      FeedbackForwardingEmailAddress: 'F <f@example.com>',
    };
    expect(validator(body)).toEqual([
      {
        path: '/FeedbackForwardingEmailAddress',
        message: 'must be a plain email address, like user@example.com',
      },
    ]);
  });

  it('allows tab-free printable header values up to 995 characters, no more', () => {
    const body = validBody();
    (body.DefaultContent as { Template: Record<string, unknown> }).Template.Headers = [
      { Name: 'X', Value: 'v'.repeat(995) },
      { Name: 'Y', Value: 'v'.repeat(996) },
      { Name: 'Z', Value: 'a\tb' },
    ];
    expect(validator(body)).toEqual([
      {
        path: '/DefaultContent/Template/Headers/1/Value',
        message: 'must be at most 995 characters long (got 996)',
      },
      {
        path: '/DefaultContent/Template/Headers/2/Value',
        message: 'must not contain CR, LF or other control characters',
      },
    ]);
  });
});

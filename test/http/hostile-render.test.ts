// Hostile templates and failing error paths over HTTP: small envelopes, capped details, the event loop free for others.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BulkEmailError, type Logger, validationError } from '../../src/index.js';
import { crashWatch, expectRefusal, type FuzzTarget, type Reply, startFuzzTarget } from '../fuzz/harness.js';
import { bulkBody } from '../helpers/bodies.js';

/** Every refusal here must fit in this many bytes (101 details of bounded text are ~30 kB at most). */
const MAX_ANSWER_BYTES = 64 * 1024;
/** The longest the event loop may stall while a hostile request is read and checked. */
const MAX_LOOP_DELAY_MS = 200;

/** A dry-runnable body whose inline Text is `text` (raw JSON string text, quotes and escapes included). */
function bodyWithText(text: string): string {
  const body = bulkBody(2);
  const marker = '@@TEXT@@';
  body.DefaultContent.Template = {
    TemplateContent: { Subject: 'Hi {{name}}', Text: marker },
    TemplateData: JSON.stringify({ name: 'friend' }),
  };
  return JSON.stringify(body).replace(JSON.stringify(marker), () => JSON.stringify(text));
}

/** The 66 KB shape: a partial called 6,000 times inside a partial called 5,000 times. */
const nestedInlinePartials = `{{#*inline "B"}}{{x}}{{/inline}}{{#*inline "A"}}{{#if c}}${'{{>B}}'.repeat(6000)}{{/if}}{{/inline}}${'{{>A}}'.repeat(5000)}`;

function partialChain(length: number): string {
  let text = '{{#*inline "p0"}}{{leaf}}{{/inline}}';
  for (let i = 1; i < length; i++) text += `{{#*inline "p${i}"}}{{> p${i - 1}}}{{/inline}}`;
  return `${text}{{> p${length - 1}}}`;
}

function uniqueHelperTags(bytes: number): string {
  const tags: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const tag = `{{a${i} y}}`;
    tags.push(tag);
    length += tag.length;
  }
  return tags.join('');
}

interface Details {
  path: string;
  message: string;
}

/** A small VALIDATION_ERROR envelope: at most 101 details, no stack, no host, no file path. */
function smallRefusal(reply: Reply): Details[] {
  const { details } = expectRefusal(reply, ['VALIDATION_ERROR']);
  expect(Buffer.byteLength(reply.text)).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
  const list = details as Details[];
  expect(Array.isArray(list)).toBe(true);
  expect(list.length).toBeGreaterThan(0);
  expect(list.length).toBeLessThanOrEqual(101);
  expect(reply.text).not.toMatch(/\n\s+at |127\.0\.0\.1|node_modules|\/work\//);
  return list;
}

describe('hostile templates over HTTP', () => {
  let target: FuzzTarget;
  let watch: ReturnType<typeof crashWatch>;
  const victim = JSON.stringify(bulkBody(3));

  beforeAll(async () => {
    target = await startFuzzTarget();
    watch = crashWatch();
    // warm up: the parser's, the walk's and the validator's code compiled, as on a server that has run a while
    for (let i = 0; i < 5; i++) {
      const partials = `{{#*inline "p${i}"}}{{#if a}}{{x}}{{/if}}{{/inline}}${'{{> p0}} {{y}}'.repeat(300)}`;
      await target.post(bodyWithText(partials), {}, 'dry_run=true');
      await target.post(bodyWithText(partialChain(150 + i)), {}, 'dry_run=true');
      await target.post(victim, { 'x-user': 'victim' }, 'dry_run=true');
    }
  });
  afterAll(async () => {
    watch.stop();
    await target.close();
  });

  /**
   * Sends the hostile request and, while it is read and checked, another principal's dry run; returns both answers
   * and the longest event-loop stall seen meanwhile (perf_hooks' histogram, 10 ms resolution).
   */
  async function alongsideAnother(send: () => Promise<Reply>) {
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const [hostile, other] = await Promise.all([
      send(),
      new Promise<Reply>((resolve, reject) => {
        setImmediate(() => target.post(victim, { 'x-user': 'victim' }, 'dry_run=true').then(resolve, reject));
      }),
    ]);
    loop.disable();
    expect(other.status, other.text).toBe(200);
    return { hostile, maxDelayMs: loop.max / 1e6 };
  }

  /**
   * The hostile request alongside another, up to three times: on this shared machine the OS alone can pause the
   * process for a while, so one quiet attempt proves the point, while a real stall (the 15 s) shows in all.
   */
  async function withoutStalling(label: string, send: () => Promise<Reply>): Promise<Reply> {
    const stalls: number[] = [];
    let reply: Reply | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      const { hostile, maxDelayMs } = await alongsideAnother(send);
      reply = hostile;
      stalls.push(Math.round(maxDelayMs));
      if (maxDelayMs < MAX_LOOP_DELAY_MS) break;
    }
    console.log(`${label}: longest event-loop stall per attempt ${stalls.join(', ')} ms`);
    expect(Math.min(...stalls)).toBeLessThan(MAX_LOOP_DELAY_MS);
    return reply as Reply;
  }

  function nothingStored() {
    expect(target.spied.createJob).toBe(0);
    expect(target.h.calls).toHaveLength(0);
    expect(watch.errors).toEqual([]);
  }

  it('the meter works: a deliberate 300 ms block of the event loop is seen', async () => {
    const { maxDelayMs } = await alongsideAnother(async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      const until = performance.now() + 300;
      while (performance.now() < until) {
        // busy: nothing else runs on this thread meanwhile
      }
      return target.post(victim, { 'x-user': 'attacker' }, 'dry_run=true');
    });
    expect(maxDelayMs).toBeGreaterThanOrEqual(250);
  });

  const cases: [name: string, text: string, detail: RegExp][] = [
    [
      '66 KB of nested inline partials (the issue: 15 s stall)',
      nestedInlinePartials,
      /more than 4,000 Handlebars tokens/,
    ],
    [
      'a chain of 4,900 partials (the issue: stack overflow, 500)',
      partialChain(4900),
      /more than 4,000 Handlebars tokens/,
    ],
    ['a chain of 360 partials, under the token limit', partialChain(360), /partials nested more than 100 deep/],
    [
      '3.8 MB of unique helper tags (the issue: 300,000 details, 78 MB answer)',
      uniqueHelperTags(3.8e6),
      /over 1,048,576 characters/,
    ],
    [
      '10,000 nested blocks',
      `${'{{#each a}}'.repeat(10_000)}${'{{/each}}'.repeat(10_000)}`,
      /nested more than 100 deep/,
    ],
  ];

  for (const [name, text, detail] of cases) {
    for (const dry of [true, false]) {
      it(`${name}: ${dry ? 'dry run' : 'POST'} → 400 with one detail, others served meanwhile`, async () => {
        // each attempt sends a new text: a template seen before is answered from the router's template cache
        let attempt = 0;
        const send = () =>
          target.post(
            bodyWithText(`attempt ${attempt++}: ${text}`),
            { 'x-user': 'attacker' },
            dry ? 'dry_run=true' : '',
          );
        const hostile = await withoutStalling(`${name} (${dry ? 'dry run' : 'POST'})`, send);
        const list = smallRefusal(hostile);
        expect(list).toEqual([
          { path: '/DefaultContent/Template/TemplateContent/Text', message: expect.stringMatching(detail) },
        ]);
        expect(list[0].message).toMatch(/^template too complex to check: /);
        nothingStored();
      });
    }
  }

  it('900 unique custom helpers under the limits: 100 details and one counting the rest', async () => {
    for (const dry of [true, false]) {
      const reply = await target.post(bodyWithText(uniqueHelperTags(9_000)), {}, dry ? 'dry_run=true' : '');
      const list = smallRefusal(reply);
      expect(list).toHaveLength(101);
      expect(list[0].message).toMatch(
        /^\{\{a0 y\}\}: helper "a0"; inline TemplateContent supports simple substitutions/,
      );
      expect(list[100]).toEqual({
        path: '/DefaultContent/Template',
        message: expect.stringMatching(/^\d+ more template problems not listed \(showing the first 100\)$/),
      });
    }
    nothingStored();
  });

  it('two 20 MB Texts of unique helper tags at once (the issue: 31 s, 3.6 GB, an HTML error page)', async () => {
    const body = bodyWithText(uniqueHelperTags(20e6 - 400));
    expect(body.length).toBeLessThan(20 * 1024 * 1024);
    const rss = process.memoryUsage().rss;
    let peak = rss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const replies = await Promise.all([
      target.post(body, { 'x-user': 'attacker' }, 'dry_run=true'),
      target.post(body, { 'x-user': 'attacker' }),
      target.post(victim, { 'x-user': 'victim' }, 'dry_run=true'),
    ]);
    loop.disable();
    clearInterval(sampler);
    for (const reply of replies.slice(0, 2)) {
      expect(smallRefusal(reply)).toEqual([
        {
          path: '/DefaultContent/Template/TemplateContent/Text',
          message: expect.stringMatching(/over 1,048,576 characters/),
        },
      ]);
    }
    expect(replies[2].status).toBe(200);
    const grewMb = (peak - rss) / 1024 / 1024;
    // Reading and parsing a 20 MB body is the body's own cost (JSON.parse blocks the loop for it); the render check
    // adds nothing. Printed, not asserted: it depends on the machine's load.
    console.log(
      `two 20 MB bodies: RSS +${grewMb.toFixed(0)} MB, longest event-loop stall ${(loop.max / 1e6).toFixed(0)} ms`,
    );
    expect(grewMb).toBeLessThan(600);
    nothingStored();
  });
});

describe('permissive render check and a template past the limits', () => {
  it('sends it unchecked and warns once, saying why', async () => {
    const warned: object[] = [];
    const target = await startFuzzTarget({
      renderCheck: 'permissive',
      logger: {
        debug: () => undefined,
        info: () => undefined,
        error: () => undefined,
        warn: (obj) => warned.push(obj),
      },
    });
    try {
      const reply = await target.post(bodyWithText(nestedInlinePartials), {}, 'dry_run=true');
      expect(reply.status, reply.text).toBe(200);
      expect((reply.json as { data: { invalid: unknown[] } }).data.invalid).toEqual([]);
      expect(warned).toEqual([
        {
          code: 'EBE_RENDER_CHECK_SKIPPED',
          reason: expect.stringMatching(/^template not checked: more than 4,000 Handlebars tokens/),
        },
      ]);
    } finally {
      await target.close();
    }
  });
});

describe('the error path always answers a small envelope', () => {
  const logged: { obj: object; msg?: string }[] = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (obj, msg) => logged.push({ obj, msg }),
  };
  let thrown: () => unknown = () => undefined;
  let target: FuzzTarget;
  beforeAll(async () => {
    target = await startFuzzTarget({
      logger,
      validate: () => {
        throw thrown();
      },
    });
  });
  afterAll(async () => {
    await target.close();
  });

  /** Sends a valid body whose `validate` hook throws `make()`; the answer and what was logged. */
  async function whenHookThrows(make: () => unknown) {
    thrown = make;
    logged.length = 0;
    const reply = await target.post(JSON.stringify(bulkBody(1)));
    expect(reply.contentType).toMatch(/^application\/json/);
    expect(Buffer.byteLength(reply.text)).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
    expect(reply.text).not.toMatch(/\n\s+at |<html|127\.0\.0\.1|:6379|node_modules|\/work\//i);
    return {
      reply,
      body: reply.json as {
        success: boolean;
        error: { code: string; message: string; details?: unknown; correlation_id?: string };
      },
    };
  }

  async function expectMinimal(make: () => unknown) {
    const { reply, body } = await whenHookThrows(make);
    expect(reply.status).toBe(500);
    expect(body.success).toBe(false);
    expect(body.error.code).toBe('INTERNAL_ERROR');
    expect(body.error.details).toBeUndefined();
    expect(body.error.message).toBe(
      `Something went wrong on our side; quote correlation id ${body.error.correlation_id}`,
    );
    expect(logged).toHaveLength(1);
    expect(logged[0].obj).toMatchObject({ correlationId: body.error.correlation_id });
    return logged[0];
  }

  it('details that cannot be serialised (circular, BigInt)', async () => {
    const circular: Record<string, unknown> = { path: '/x' };
    circular.self = circular;
    const line = await expectMinimal(() => new BulkEmailError('VALIDATION_ERROR', 'bad', { details: [circular] }));
    expect(line.msg).toBe('express-bulk-email: an error could not be sent as it was');
    expect(line.obj).toMatchObject({ code: 'VALIDATION_ERROR' });
    await expectMinimal(() => new BulkEmailError('VALIDATION_ERROR', 'bad', { details: { n: 10n } }));
  });

  it('an error too large to send (a 1 MB message)', async () => {
    await expectMinimal(() => new BulkEmailError('FORBIDDEN', 'x'.repeat(1_000_000)));
  });

  it('headers that cannot be set', async () => {
    const line = await expectMinimal(
      () => new BulkEmailError('RATE_LIMITED', 'slow down', { headers: { 'X-Bad': 'a\r\nb' } }),
    );
    expect(line.msg).toBe('express-bulk-email: the error handler failed');
  });

  it('an unknown error naming a host and port: logged, not shown', async () => {
    const line = await expectMinimal(() => new Error('connect ECONNREFUSED 127.0.0.1:6379'));
    expect(line.obj).toMatchObject({ err: { message: 'connect ECONNREFUSED 127.0.0.1:6379' } });
  });

  it('a thrown value that is not an Error, with a throwing getter', async () => {
    await expectMinimal(() => ({
      get message(): string {
        throw new Error('getter');
      },
    }));
  });

  it('a hook listing 300,000 problems: 100 and a count', async () => {
    const { reply, body } = await whenHookThrows(() =>
      validationError(Array.from({ length: 300_000 }, (_, i) => ({ path: `/x/${i}`, message: `problem ${i}` }))),
    );
    expect(reply.status).toBe(400);
    expect(body.error.details).toHaveLength(101);
    expect((body.error.details as Details[])[100].message).toBe(
      '299900 more problems not listed (showing the first 100)',
    );
  });

  it('a logger that throws does not take the answer with it', async () => {
    const failing = await startFuzzTarget({
      logger: {
        ...logger,
        error: () => {
          throw new Error('log sink down');
        },
      },
      validate: () => {
        throw new Error('boom');
      },
    });
    try {
      const reply = await failing.post(JSON.stringify(bulkBody(1)));
      expect(reply.status).toBe(500);
      expect((reply.json as { error: { code: string } }).error.code).toBe('INTERNAL_ERROR');
    } finally {
      await failing.close();
    }
  });
});

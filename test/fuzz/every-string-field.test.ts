// Every string field of full valid bodies × CR, LF, CRLF, NUL (start, middle, end) and invalid UTF-8: refused unless legal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadValidFixtures } from '../fixtures/load-fixtures.js';
import { crashWatch, expectRefusal, type FuzzTarget, prototypeGuard, startFuzzTarget } from './harness.js';
import { INVALID_UTF8, type Json, pointer, stringRule } from './hostile-bodies.js';

type Path = (string | number)[];

const allFields = loadValidFixtures().find((f) => f.name === 'all-fields')?.body as Record<string, Json>;
const entries = [{ Destination: { ToAddresses: ['to@example.com'] } }];
const attachment = {
  RawContent: 'SGVsbG8=',
  FileName: 'hello.txt',
  ContentDisposition: 'ATTACHMENT',
  ContentDescription: 'A greeting',
  ContentId: 'hello@example.com',
  ContentTransferEncoding: 'BASE64',
  ContentType: 'text/plain',
};
/** Between them, every string field of the schema. */
const BODIES: Record<string, Json> = {
  'all-fields': allFields,
  'stored-template': {
    FromEmailAddress: 'sender@example.com',
    DefaultContent: {
      Template: { TemplateName: 'Welcome', TemplateData: '{"name":"friend"}', Attachments: [attachment] },
    },
    BulkEmailEntries: entries,
  },
  'template-arn': {
    FromEmailAddress: 'sender@example.com',
    DefaultContent: { Template: { TemplateArn: 'arn:aws:ses:us-east-1:123456789012:template/Welcome' } },
    BulkEmailEntries: entries,
  },
};

function stringPaths(value: Json, path: Path = [], out: Path[] = []): Path[] {
  if (typeof value === 'string') out.push(path);
  else if (Array.isArray(value)) value.forEach((v, i) => void stringPaths(v, [...path, i], out));
  else if (value && typeof value === 'object')
    for (const k of Object.keys(value)) stringPaths(value[k], [...path, k], out);
  return out;
}

function withValue(body: Json, path: Path, value: string): Json {
  const copy = JSON.parse(JSON.stringify(body)) as Json;
  let node = copy as Record<string | number, Json>;
  for (const p of path.slice(0, -1)) node = node[p] as Record<string | number, Json>;
  node[path[path.length - 1]] = value;
  return copy;
}

const MARK = '@@BYTES@@';

describe('every string field × CR, LF, CRLF, NUL and invalid UTF-8', () => {
  const guard = prototypeGuard();
  let target: FuzzTarget;
  let watch: ReturnType<typeof crashWatch>;
  beforeAll(async () => {
    target = await startFuzzTarget();
    watch = crashWatch();
  });
  afterAll(async () => {
    watch.stop();
    await target.close();
  });

  it('the bodies are valid as they are', async () => {
    for (const [name, body] of Object.entries(BODIES)) {
      const reply = await target.post(JSON.stringify(body));
      expect(reply.status, `${name}: ${reply.text}`).toBe(202);
    }
  });

  const cases = Object.entries(BODIES).flatMap(([name, body]) =>
    stringPaths(body).map((path) => ({ name, body, path, rule: stringRule(path) })),
  );

  it('every string field is known to the rules table', () => {
    expect(cases.filter((c) => !c.rule).map((c) => `${c.name} ${pointer(c.path)}`)).toEqual([]);
    expect(cases.length).toBeGreaterThan(40);
  });

  it('CR, LF, CRLF or NUL anywhere: refused at that field, except where the text may hold them', async () => {
    let sent = 0;
    const accepted: string[] = [];
    for (const { name, body, path, rule } of cases) {
      const original = (() => {
        let node = body as Record<string | number, Json>;
        for (const p of path) node = node[p] as Record<string | number, Json>;
        return node as unknown as string;
      })();
      for (const char of ['\r', '\n', '\r\n', '\u0000']) {
        for (const at of [0, Math.floor(original.length / 2), original.length]) {
          const value = original.slice(0, at) + char + original.slice(at);
          // Mail bodies may hold anything; template data is JSON, where CR and LF between tokens are whitespace.
          let legal = rule?.kind === 'free';
          if (rule?.kind === 'json-data') {
            try {
              const parsed = JSON.parse(value);
              legal = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
            } catch {
              legal = false;
            }
          }
          const jobs = target.spied.createJob;
          const reply = await target.post(JSON.stringify(withValue(body, path, value)));
          sent += 1;
          const where = `${name} ${pointer(path)} ${JSON.stringify(char)} at ${at}`;
          if (legal) {
            expect(reply.status, `${where}: ${reply.text}`).toBe(202);
            expect(target.spied.createJob, where).toBe(jobs + 1);
            accepted.push(where);
          } else {
            const { details } = expectRefusal(reply, ['VALIDATION_ERROR']);
            expect(
              (details as { path: string }[]).map((d) => d.path),
              where,
            ).toContain(pointer(path));
            expect(target.spied.createJob, where).toBe(jobs);
          }
        }
      }
    }
    guard.check();
    expect(watch.errors).toEqual([]);
    console.log(`${sent} requests; accepted (legal) ${accepted.length}: bodies and template data whitespace only`);
    expect(
      accepted.every((w) =>
        / \/DefaultContent\/Template\/TemplateContent\/(Text|Html) | \/(DefaultContent\/Template\/TemplateData|BulkEmailEntries\/0\/ReplacementEmailContent\/ReplacementTemplate\/ReplacementTemplateData) /.test(
          w,
        ),
      ),
    ).toBe(true);
  });

  it('bytes that are not UTF-8: refused in every ASCII-only field; elsewhere never a 5xx', async () => {
    let sent = 0;
    const substituted = new Set<string>();
    for (const { name, body, path, rule } of cases) {
      for (const bytes of INVALID_UTF8) {
        const text = JSON.stringify(withValue(body, path, `x${MARK}y`));
        const [before, after] = text.split(MARK);
        const jobs = target.spied.createJob;
        const reply = await target.post(Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]));
        sent += 1;
        const where = `${name} ${pointer(path)} ${Buffer.from(bytes).toString('hex')}`;
        if (rule?.kind === 'ascii' || rule?.kind === 'base64') {
          const { details } = expectRefusal(reply, ['VALIDATION_ERROR', 'INVALID_JSON']);
          if (details)
            expect(
              (details as { path: string }[]).map((d) => d.path),
              where,
            ).toContain(pointer(path));
          expect(target.spied.createJob, where).toBe(jobs);
        } else if (reply.status === 202) {
          // Read as U+FFFD (see corpus/invalid-utf8-in-subject.json): the job exists, with altered text.
          expect(target.spied.createJob, where).toBe(jobs + 1);
          substituted.add(pointer(path));
        } else {
          expectRefusal(reply, ['VALIDATION_ERROR', 'INVALID_JSON']);
          expect(target.spied.createJob, where).toBe(jobs);
        }
      }
    }
    guard.check();
    expect(watch.errors).toEqual([]);
    console.log(
      `${sent} requests; fields where invalid UTF-8 was accepted as U+FFFD: ${[...substituted].join(', ') || 'none'}`,
    );
  });
});

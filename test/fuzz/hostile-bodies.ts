// fast-check generators of hostile POST / requests: a valid body broken on purpose, or junk, as raw bytes and headers.
import { brotliCompressSync, constants, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { PRINCIPAL } from './harness.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

/** One request to send, with what the answer may be. */
export interface FuzzCase {
  /** The mutations applied, for statistics and failure messages. */
  kinds: string[];
  headers: Record<string, string>;
  body: Buffer;
  /** Codes the refusal may carry. */
  codes: readonly string[];
  /** JSON Pointers of which at least one must be among `details[].path` (the last mutation's own problem). */
  paths?: string[];
  /** The bytes are UTF-8 JSON the server parses as is: the answer's details must equal the validator's on this text. */
  exactText?: string;
  /** A 2xx answer is fine too (schema-valid bodies sent as dry runs). */
  mayAccept?: boolean;
}

/** Routers the fuzz suite runs: small limits keep every case cheap. */
export const FUZZ_LIMITS = { bodyLimit: 1024 * 1024, maxEntries: 100 } as const;

/* ------------------------------------------------------------------ field rules */

type StringKind =
  /** ASCII-only patterns, formats and enums: any control or non-ASCII character (U+FFFD included) is refused. */
  | 'ascii'
  /** One-line text that may hold non-ASCII (Subject, TemplateName, FileName, ContentDescription): controls refused. */
  | 'one-line'
  /** A JSON object serialized as a string: a non-whitespace control character anywhere breaks it. */
  | 'json-data'
  /** base64: anything outside the alphabet is refused. */
  | 'base64'
  /** Mail bodies: CR, LF and the rest are legitimate. */
  | 'free';

interface StringRule {
  kind: StringKind;
  /** maxLength in code points, when the schema sets one. */
  max?: number;
}

/** By schema path: the field path with array indexes as `*`. */
const STRING_RULES: Record<string, StringRule> = {
  FromEmailAddress: { kind: 'ascii', max: 320 },
  FromEmailAddressIdentityArn: { kind: 'ascii', max: 2048 },
  'ReplyToAddresses.*': { kind: 'ascii', max: 320 },
  FeedbackForwardingEmailAddress: { kind: 'ascii', max: 254 },
  FeedbackForwardingEmailAddressIdentityArn: { kind: 'ascii', max: 2048 },
  'DefaultEmailTags.*.Name': { kind: 'ascii', max: 256 },
  'DefaultEmailTags.*.Value': { kind: 'ascii', max: 256 },
  'DefaultContent.Template.TemplateName': { kind: 'one-line', max: 256 },
  'DefaultContent.Template.TemplateArn': { kind: 'ascii', max: 2048 },
  'DefaultContent.Template.TemplateContent.Subject': { kind: 'one-line' },
  'DefaultContent.Template.TemplateContent.Text': { kind: 'free' },
  'DefaultContent.Template.TemplateContent.Html': { kind: 'free' },
  'DefaultContent.Template.TemplateData': { kind: 'json-data', max: 262_144 },
  'DefaultContent.Template.Headers.*.Name': { kind: 'ascii', max: 126 },
  'DefaultContent.Template.Headers.*.Value': { kind: 'ascii', max: 995 },
  'DefaultContent.Template.Attachments.*.RawContent': { kind: 'base64' },
  'DefaultContent.Template.Attachments.*.FileName': { kind: 'one-line', max: 255 },
  'DefaultContent.Template.Attachments.*.ContentDisposition': { kind: 'ascii', max: 10 },
  'DefaultContent.Template.Attachments.*.ContentDescription': { kind: 'one-line', max: 1000 },
  'DefaultContent.Template.Attachments.*.ContentId': { kind: 'ascii', max: 78 },
  'DefaultContent.Template.Attachments.*.ContentTransferEncoding': { kind: 'ascii', max: 16 },
  'DefaultContent.Template.Attachments.*.ContentType': { kind: 'ascii', max: 78 },
  'BulkEmailEntries.*.Destination.ToAddresses.*': { kind: 'ascii', max: 254 },
  'BulkEmailEntries.*.Destination.CcAddresses.*': { kind: 'ascii', max: 254 },
  'BulkEmailEntries.*.Destination.BccAddresses.*': { kind: 'ascii', max: 254 },
  'BulkEmailEntries.*.ReplacementTags.*.Name': { kind: 'ascii', max: 256 },
  'BulkEmailEntries.*.ReplacementTags.*.Value': { kind: 'ascii', max: 256 },
  'BulkEmailEntries.*.ReplacementEmailContent.ReplacementTemplate.ReplacementTemplateData': {
    kind: 'json-data',
    max: 262_144,
  },
  'BulkEmailEntries.*.ReplacementHeaders.*.Name': { kind: 'ascii', max: 126 },
  'BulkEmailEntries.*.ReplacementHeaders.*.Value': { kind: 'ascii', max: 995 },
  ConfigurationSetName: { kind: 'ascii', max: 64 },
  EndpointId: { kind: 'ascii', max: 253 },
  TenantName: { kind: 'ascii', max: 64 },
  'ConfigurationOverrides.Tracking.OpenTrackingEnabled': { kind: 'ascii', max: 8 },
  'ConfigurationOverrides.Tracking.ClickTrackingEnabled': { kind: 'ascii', max: 8 },
};

/** Keys an object of that schema path must have. */
const REQUIRED: Record<string, string[]> = {
  '': ['DefaultContent', 'BulkEmailEntries'],
  DefaultContent: ['Template'],
  /** One of the three is required: the body has exactly one. */
  'DefaultContent.Template': ['TemplateName', 'TemplateArn', 'TemplateContent'],
  'BulkEmailEntries.*': ['Destination'],
  'DefaultEmailTags.*': ['Name', 'Value'],
  'BulkEmailEntries.*.ReplacementTags.*': ['Name', 'Value'],
  'DefaultContent.Template.Headers.*': ['Name', 'Value'],
  'BulkEmailEntries.*.ReplacementHeaders.*': ['Name', 'Value'],
  'DefaultContent.Template.Attachments.*': ['RawContent', 'FileName'],
};

/** Every field name the schema knows anywhere: an "unknown" key must be none of these. */
const KNOWN_NAMES = new Set(
  Object.keys(STRING_RULES)
    .concat(Object.keys(REQUIRED))
    .flatMap((p) => p.split('.'))
    .concat([
      'DefaultContent',
      'Template',
      'TemplateContent',
      'Headers',
      'Attachments',
      'BulkEmailEntries',
      'Destination',
    ])
    .concat([
      'ReplacementEmailContent',
      'ReplacementTemplate',
      'ReplacementHeaders',
      'ReplacementTags',
      'DefaultEmailTags',
    ])
    .concat(['ReplyToAddresses', 'ConfigurationOverrides', 'Tracking', 'ToAddresses', 'CcAddresses', 'BccAddresses']),
);

export const schemaPath = (path: Path) => path.map((p) => (typeof p === 'number' ? '*' : p)).join('.');
export const pointer = (path: Path) =>
  path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

/** Most items of each list that are validated one by one (later ones are cut: only the count is reported). */
const LIST_CHECKED: Record<string, number> = {
  BulkEmailEntries: FUZZ_LIMITS.maxEntries,
  ReplyToAddresses: 51,
  DefaultEmailTags: 51,
  'DefaultContent.Template.Attachments': 51,
  'DefaultContent.Template.Headers': 16,
  'BulkEmailEntries.*.Destination.ToAddresses': 51,
  'BulkEmailEntries.*.Destination.CcAddresses': 51,
  'BulkEmailEntries.*.Destination.BccAddresses': 51,
  'BulkEmailEntries.*.ReplacementTags': 51,
  'BulkEmailEntries.*.ReplacementHeaders': 16,
};

/** Where a problem at `ptr` may be reported: there, or at the list whose count hides it. */
function widen(ptr: string): string[] {
  const tokens = ptr
    .split('/')
    .slice(1)
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  const out = [ptr];
  tokens.forEach((t, i) => {
    const limit = LIST_CHECKED[schemaPath(tokens.slice(0, i).map((x) => (/^\d+$/.test(x) ? 0 : x)))];
    if (limit !== undefined && /^\d+$/.test(t) && Number(t) >= limit) out.push(pointer(tokens.slice(0, i)));
  });
  return out;
}

/** Every place the schema describes (`*` for array items), with its JSON type. */
const SCHEMA_TYPES = new Map<string, 'string' | 'array' | 'object'>();
for (const leaf of [...Object.keys(STRING_RULES), ...Object.keys(REQUIRED), ...Object.keys(LIST_CHECKED)]) {
  const parts = leaf === '' ? [] : leaf.split('.');
  for (let i = 0; i <= parts.length; i++) {
    const p = parts.slice(0, i).join('.');
    SCHEMA_TYPES.set(p, STRING_RULES[p] ? 'string' : LIST_CHECKED[p] !== undefined ? 'array' : 'object');
  }
}

export function stringRule(path: Path): StringRule | undefined {
  return STRING_RULES[schemaPath(path)];
}

/* ------------------------------------------------------------------ valid bodies */

const word = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/);
const address = word.map((w) => `${w}@example.com`);
const token = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
const tag = fc.record({ Name: token, Value: token });
const headers = (prefix: string) =>
  fc.uniqueArray(
    fc
      .stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,10}$/)
      .map((n) => ({ Name: `X-${prefix}-${n}`, Value: `value of ${n}` })),
    { maxLength: 3, selector: (h) => h.Name.toLowerCase() },
  );
const templateData = fc
  .dictionary(word, fc.oneof(fc.string({ maxLength: 20 }), fc.integer()), { maxKeys: 3 })
  .map((d) => JSON.stringify(d));
const attachment = fc.record(
  {
    RawContent: fc.uint8Array({ minLength: 1, maxLength: 30 }).map((b) => Buffer.from(b).toString('base64')),
    FileName: fc.constantFrom('report.pdf', 'a.txt', 'Résumé.docx'),
    ContentType: fc.constantFrom('text/plain', 'application/pdf'),
    ContentDisposition: fc.constantFrom('ATTACHMENT', 'INLINE'),
    ContentId: fc.constantFrom('part1@example.com', 'logo'),
    ContentTransferEncoding: fc.constantFrom('BASE64', 'QUOTED_PRINTABLE', 'SEVEN_BIT'),
    ContentDescription: fc.constantFrom('The report', 'Ünïcode description'),
  },
  { requiredKeys: ['RawContent', 'FileName'] },
);
const source = fc.oneof(
  fc.constant({ TemplateName: 'Welcome' }),
  fc.constant({ TemplateArn: 'arn:aws:ses:us-east-1:123456789012:template/Welcome' }),
  fc
    .record(
      {
        Subject: fc.constantFrom('Hello {{name}}', 'Grüße, {{name}} 👋', ''),
        Text: fc.constantFrom('Hi {{name}}\r\nBye', 'plain'),
        Html: fc.constantFrom('<p>Hi {{name}}</p>', '<b>x</b>'),
      },
      { requiredKeys: [] },
    )
    .map((TemplateContent) => ({ TemplateContent })),
);
const template = fc
  .tuple(
    source,
    fc.record(
      {
        TemplateData: templateData,
        Headers: headers('Default'),
        Attachments: fc.array(attachment, { minLength: 1, maxLength: 2 }),
      },
      { requiredKeys: [] },
    ),
  )
  .map(([s, rest]) => ({ ...s, ...rest }));
const destination = fc.record(
  {
    ToAddresses: fc.array(address, { minLength: 1, maxLength: 3 }),
    CcAddresses: fc.array(address, { maxLength: 2 }),
    BccAddresses: fc.array(address, { maxLength: 2 }),
  },
  { requiredKeys: ['ToAddresses'] },
);
const entry = fc.record(
  {
    Destination: destination,
    ReplacementTags: fc.array(tag, { maxLength: 2 }),
    ReplacementEmailContent: templateData.map((ReplacementTemplateData) => ({
      ReplacementTemplate: { ReplacementTemplateData },
    })),
    ReplacementHeaders: headers('Entry'),
  },
  { requiredKeys: ['Destination'] },
);

/** Small valid SendBulkEmail bodies using (over many samples) every field of the schema. */
export const validBody: fc.Arbitrary<Record<string, Json>> = fc.record(
  {
    FromEmailAddress: fc.constantFrom(
      'sender@example.com',
      'Sender <sender@example.com>',
      '"Doe, Jane" <jane@example.com>',
    ),
    FromEmailAddressIdentityArn: fc.constant('arn:aws:ses:us-east-1:123456789012:identity/example.com'),
    ReplyToAddresses: fc.array(fc.constantFrom('help@example.com', 'Help <help@example.com>'), {
      minLength: 1,
      maxLength: 2,
    }),
    FeedbackForwardingEmailAddress: fc.constant('bounces@example.com'),
    FeedbackForwardingEmailAddressIdentityArn: fc.constant('arn:aws:ses:us-east-1:123456789012:identity/example.com'),
    DefaultEmailTags: fc.array(tag, { minLength: 1, maxLength: 2 }),
    DefaultContent: template.map((Template) => ({ Template })),
    BulkEmailEntries: fc.array(entry, { minLength: 1, maxLength: 3 }),
    ConfigurationSetName: token,
    EndpointId: fc.constantFrom('abcdef12.xyz', 'endpoint-1'),
    TenantName: token,
    ConfigurationOverrides: fc.constant({
      Tracking: { OpenTrackingEnabled: 'ENABLED', ClickTrackingEnabled: 'DISABLED' },
    }),
  },
  { requiredKeys: ['FromEmailAddress', 'DefaultContent', 'BulkEmailEntries'] },
) as fc.Arbitrary<Record<string, Json>>;

/* ------------------------------------------------------------------ walking and editing JSON */

interface Slot {
  path: Path;
  value: Json;
}

function slots(value: Json, path: Path = [], out: Slot[] = []): Slot[] {
  out.push({ path, value });
  if (Array.isArray(value)) value.forEach((v, i) => void slots(v, [...path, i], out));
  else if (value !== null && typeof value === 'object')
    for (const k of Object.keys(value)) slots(value[k], [...path, k], out);
  return out;
}

function parentOf(root: Json, path: Path): Record<string | number, Json> {
  let node = root as Record<string | number, Json>;
  for (const p of path.slice(0, -1)) node = node[p] as Record<string | number, Json>;
  return node;
}

/** Sets a copy of a value as an own data property, even for `__proto__` (generated values may be shared constants). */
function put(target: object, key: string | number, value: Json): void {
  const copy = value === null || typeof value !== 'object' ? value : (JSON.parse(JSON.stringify(value)) as Json);
  Object.defineProperty(target, key, { value: copy, enumerable: true, writable: true, configurable: true });
}

function setAt(root: Json, path: Path, value: Json): void {
  put(parentOf(root, path), path[path.length - 1], value);
}

const typeOf = (v: Json) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** A marker string the serializer replaces with raw text (deep nesting) or raw bytes (invalid UTF-8). */
interface Splices {
  text: Map<string, string>;
  bytes: Map<string, Buffer>;
}
let markerSeq = 0;
const marker = (s: Splices, kind: 'text' | 'bytes', content: string | Buffer) => {
  const m = `@@splice-${++markerSeq}@@`;
  if (kind === 'text') s.text.set(m, content as string);
  else s.bytes.set(m, content as Buffer);
  return m;
};

/* ------------------------------------------------------------------ mutations */

/** Values of every JSON type, to put where another type belongs. */
const anyValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(0, -1, 1.5, 1e308, -0, true, false, null, [], [1], {}, { a: 1 }, '', 'x', '0'),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);
const WRONG_BY_TYPE: Record<string, Json[]> = {
  string: [0, true, null, [], {}],
  number: ['1', null],
  boolean: ['true', 0],
  null: [0, 'null'],
  array: ['[]', {}, 0, null],
  object: ['{}', [], 0, null, true],
};

/** Keys that must stay data: prototype names, near misses of real fields, and oddities for JSON Pointer escaping. */
const hostileKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'),
  fc.constantFrom('FromEmailAdress', 'bulkEmailEntries', 'Destinaton', 'templateName', 'BulkEmailEntry', 'Tracking '),
  fc.constantFrom('', '/', '~', '~1', 'a/b~c', ' ', '\u0000', '\r\n', '\u2028', '😀', 'ключ', '$ref', '0', 'length'),
  fc.string({ maxLength: 20 }),
  fc.integer({ min: 129, max: 5000 }).map((n) => 'k'.repeat(n)),
);
/** Payloads for prototype keys, parsed from text so that `__proto__` stays an own key as it does in a request. */
const pollutionValue: fc.Arbitrary<Json> = fc
  .constantFrom(
    '{"polluted":"yes","isAdmin":true}',
    '{"prototype":{"polluted":"yes"}}',
    '{"__proto__":{"polluted":"yes"}}',
    '{"constructor":{"prototype":{"polluted":"yes"}}}',
    '"polluted"',
    '[{"__proto__":{"polluted":1}}]',
  )
  .map((text) => JSON.parse(text) as Json);

const CONTROLS = [
  '\r',
  '\n',
  '\r\n',
  '\u0000',
  '\t',
  '\u001b',
  '\u007f',
  '\u000b',
  '\u000c',
  '\u0008',
  '\r\nBcc: evil@evil.com',
];
const NON_WHITESPACE_CONTROLS = ['\u0000', '\u001b', '\u000b', '\u000c', '\u0008', '\u0001'];
/** Byte sequences that are not UTF-8. */
export const INVALID_UTF8: number[][] = [
  [0xff],
  [0xfe, 0xff],
  [0xc0, 0x80], // overlong NUL
  [0xc1, 0xbf],
  [0xe0, 0x80, 0x8d], // overlong CR
  [0xed, 0xa0, 0x80], // UTF-16 surrogate
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0x80], // lone continuation
  [0xe2, 0x82], // truncated €
  [0xf0, 0x9f, 0x98], // truncated 😀
];

interface Ctx {
  body: Json;
  splices: Splices;
  /** Pointers the last mutation's problem is reported at (any one). */
  paths: string[];
}

type Mutation = { name: string; apply: (ctx: Ctx) => boolean };

const pick = <T>(list: T[], n: number): T | undefined => (list.length ? list[n % list.length] : undefined);
/**
 * Values at places the schema describes: what is inside an unknown key or a value of the wrong type is never
 * validated, so a mutation there would go unreported.
 */
const schemaSlots = (body: Json) => slots(body).filter((s) => SCHEMA_TYPES.has(schemaPath(s.path)));
const nonRoot = (body: Json) => schemaSlots(body).filter((s) => s.path.length > 0);
const stringSlots = (body: Json, accept: (rule: StringRule) => boolean) =>
  schemaSlots(body).filter(
    (s) => typeof s.value === 'string' && stringRule(s.path) !== undefined && accept(stringRule(s.path) as StringRule),
  );
const objectSlots = (body: Json) =>
  schemaSlots(body).filter((s) => typeOf(s.value) === 'object' && SCHEMA_TYPES.get(schemaPath(s.path)) === 'object');

function deepText(depth: number, shape: 'array' | 'object'): string {
  return shape === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Mutations that each make the body invalid, wherever they land. */
const invalidating: fc.Arbitrary<Mutation> = fc.oneof(
  // A value of another JSON type anywhere.
  fc.tuple(fc.nat(), anyValue, fc.nat()).map(([n, value, k]) => ({
    name: 'wrong-type',
    apply: (ctx: Ctx) => {
      const slot = pick(nonRoot(ctx.body), n);
      if (!slot) return false;
      // Another type than the schema's (the value there may already be of a wrong type).
      const expected = SCHEMA_TYPES.get(schemaPath(slot.path)) as string;
      const replacement = typeOf(value) === expected ? (pick(WRONG_BY_TYPE[expected], k) as Json) : value;
      setAt(ctx.body, slot.path, replacement);
      ctx.paths = [pointer(slot.path)];
      return true;
    },
  })),
  // A required field removed.
  fc.nat().map((n) => ({
    name: 'drop-required',
    apply: (ctx: Ctx) => {
      const candidates = objectSlots(ctx.body).flatMap((s) =>
        (REQUIRED[schemaPath(s.path)] ?? [])
          .filter((k) => Object.hasOwn(s.value as object, k))
          .map((k) => [...s.path, k]),
      );
      const path = pick(candidates, n);
      if (!path) return false;
      const parent = parentOf(ctx.body, path);
      // A template source goes with every other one: with two sources, dropping one would make the body valid.
      const sources = ['TemplateName', 'TemplateArn', 'TemplateContent'];
      const group =
        schemaPath(path) === 'DefaultContent.Template.TemplateName' ||
        (sources.includes(String(path[path.length - 1])) && schemaPath(path.slice(0, -1)) === 'DefaultContent.Template')
          ? sources
          : [path[path.length - 1]];
      for (const key of group) delete parent[key];
      ctx.paths = [pointer(path), pointer(path.slice(0, -1))];
      return true;
    },
  })),
  // An unknown key in any object: prototype names, near misses, pointer oddities, 5,000-character names.
  fc.tuple(fc.nat(), hostileKey, fc.oneof(pollutionValue, anyValue)).map(([n, key, value]) => ({
    name: 'extra-key',
    apply: (ctx: Ctx) => {
      const slot = pick(objectSlots(ctx.body), n);
      if (!slot || KNOWN_NAMES.has(key)) return false;
      put(slot.value as object, key, value);
      ctx.paths = key.length > 128 ? [pointer(slot.path)] : [pointer([...slot.path, key])];
      return true;
    },
  })),
  // A string past its maxLength (ASCII, accented or astral fillers: lengths count code points).
  fc
    .tuple(fc.nat(), fc.constantFrom('a', 'é', '😀', '\u0000'), fc.nat({ max: 50 }), fc.nat({ max: 19 }))
    .map(([n, filler, extra, big]) => ({
      name: 'over-long',
      apply: (ctx: Ctx) => {
        // Template data (256 KiB) only one time in twenty: the rest of the fields are cheap.
        const slot = pick(
          stringSlots(ctx.body, (r) => r.max !== undefined && (big === 0 || r.max < 10_000)),
          n,
        );
        if (!slot) return false;
        const rule = stringRule(slot.path) as StringRule;
        setAt(ctx.body, slot.path, (slot.value as string) + filler.repeat((rule.max as number) + 1 + extra));
        ctx.paths = [pointer(slot.path)];
        return true;
      },
    })),
  // CR, LF, NUL and other controls in any field that must stay on one line.
  fc.tuple(fc.nat(), fc.nat(), fc.nat()).map(([n, c, at]) => ({
    name: 'control-char',
    apply: (ctx: Ctx) => {
      const slot = pick(
        stringSlots(ctx.body, (r) => r.kind !== 'free'),
        n,
      );
      if (!slot) return false;
      const rule = stringRule(slot.path) as StringRule;
      const char = pick(rule.kind === 'json-data' ? NON_WHITESPACE_CONTROLS : CONTROLS, c) as string;
      const s = slot.value as string;
      const i = at % (s.length + 1);
      setAt(ctx.body, slot.path, s.slice(0, i) + char + s.slice(i));
      ctx.paths = [pointer(slot.path)];
      return true;
    },
  })),
  // Bytes that are not UTF-8 inside an ASCII-only field (the server reads U+FFFD, which no such field allows).
  fc.tuple(fc.nat(), fc.nat(), fc.nat()).map(([n, b, at]) => ({
    name: 'invalid-utf8',
    apply: (ctx: Ctx) => {
      const slot = pick(
        stringSlots(ctx.body, (r) => r.kind === 'ascii' || r.kind === 'base64'),
        n,
      );
      if (!slot) return false;
      const s = slot.value as string;
      const i = at % (s.length + 1);
      const m = marker(ctx.splices, 'bytes', Buffer.from(pick(INVALID_UTF8, b) as number[]));
      setAt(ctx.body, slot.path, s.slice(0, i) + m + s.slice(i));
      ctx.paths = [pointer(slot.path)];
      return true;
    },
  })),
  // Nesting 1 to 200,000 deep in place of any value (arrays and objects).
  fc
    .tuple(
      fc.nat(),
      fc.oneof(
        { arbitrary: fc.integer({ min: 1, max: 64 }), weight: 16 },
        { arbitrary: fc.integer({ min: 65, max: 5000 }), weight: 6 },
        { arbitrary: fc.constantFrom(20_000, 100_000), weight: 1 },
      ),
      fc.constantFrom<'array' | 'object'>('array', 'object'),
    )
    .map(([n, depth, shape]) => ({
      name: 'deep-nesting',
      apply: (ctx: Ctx) => {
        const slot = pick(nonRoot(ctx.body), n);
        if (!slot) return false;
        // `[[…]]`, never `[]` (an empty list can be valid); `{"a":…}` is refused for its unknown key `a`.
        setAt(
          ctx.body,
          slot.path,
          marker(ctx.splices, 'text', deepText(shape === 'array' ? Math.max(2, depth) : depth, shape)),
        );
        ctx.paths = [pointer(slot.path), pointer([...slot.path, 0]), pointer([...slot.path, 'a'])];
        return true;
      },
    })),
  // Too many of something: entries (over maxEntries), recipients, headers, tags, reply-to addresses, attachments.
  fc
    .tuple(
      fc.constantFrom('entries', 'to', 'split', 'none', 'headers', 'tags', 'reply-to', 'attachments', 'no-entries'),
      fc.nat({ max: 20 }),
      fc.nat(),
    )
    .map(([what, extra, n]) => ({
      name: `too-many-${what}`,
      apply: (ctx: Ctx) => {
        const body = ctx.body as Record<string, Json>;
        const entries = body.BulkEmailEntries;
        const template = (body.DefaultContent as Record<string, Json> | undefined)?.Template as
          | Record<string, Json>
          | undefined;
        const many = <T extends Json>(count: number, f: (i: number) => T) =>
          Array.from({ length: count }, (_, i) => f(i));
        switch (what) {
          case 'entries':
            if (!Array.isArray(entries)) return false;
            body.BulkEmailEntries = many(FUZZ_LIMITS.maxEntries + 1 + extra, (i) => ({
              Destination: { ToAddresses: [`u${i}@example.com`] },
            }));
            ctx.paths = ['/BulkEmailEntries'];
            return true;
          case 'no-entries':
            body.BulkEmailEntries = [];
            ctx.paths = ['/BulkEmailEntries'];
            return true;
          case 'reply-to':
            body.ReplyToAddresses = many(51 + extra, (i) => `r${i}@example.com`);
            ctx.paths = ['/ReplyToAddresses'];
            return true;
          case 'tags':
            body.DefaultEmailTags = many(51 + extra, (i) => ({ Name: `t${i}`, Value: 'v' }));
            ctx.paths = ['/DefaultEmailTags'];
            return true;
          case 'headers':
          case 'attachments': {
            if (typeOf(template as Json) !== 'object') return false;
            const t = template as Record<string, Json>;
            if (what === 'headers') t.Headers = many(16 + extra, (i) => ({ Name: `X-H${i}`, Value: 'v' }));
            else t.Attachments = many(51 + extra, (i) => ({ RawContent: 'AAAA', FileName: `f${i}.bin` }));
            ctx.paths = [`/DefaultContent/Template/${what === 'headers' ? 'Headers' : 'Attachments'}`];
            return true;
          }
          default: {
            if (!Array.isArray(entries) || entries.length === 0) return false;
            const i = n % entries.length;
            const e = entries[i];
            if (typeOf(e) !== 'object') return false;
            const d: Record<string, Json> = {};
            if (what === 'to') d.ToAddresses = many(51 + extra, (k) => `to${k}@example.com`);
            if (what === 'split') {
              d.ToAddresses = many(20, (k) => `to${k}@example.com`);
              d.CcAddresses = many(20, (k) => `cc${k}@example.com`);
              d.BccAddresses = many(11 + extra, (k) => `bcc${k}@example.com`);
            }
            if (what === 'none' && extra % 2) d.ToAddresses = [];
            (e as Record<string, Json>).Destination = d;
            const base = `/BulkEmailEntries/${i}/Destination`;
            ctx.paths = what === 'to' ? [`${base}/ToAddresses`] : [base];
            return true;
          }
        }
      },
    })),
  // What the schema cannot say: template sources, JSON-object data, duplicate or over-long headers, base64, syntax.
  fc
    .tuple(
      fc.constantFrom(
        'two-sources',
        'data',
        'entry-data',
        'dup-header',
        'long-header',
        'base64',
        'recipient',
        'from',
        'endpoint',
        'tag',
        'header-name',
        'enum',
      ),
      fc.nat(),
    )
    .map(([what, n]) => ({
      name: `semantic-${what}`,
      apply: (ctx: Ctx) => {
        const body = ctx.body as Record<string, Json>;
        const t = (body.DefaultContent as Record<string, Json> | undefined)?.Template as
          | Record<string, Json>
          | undefined;
        const hasTemplate = typeOf(t as Json) === 'object';
        const entries = Array.isArray(body.BulkEmailEntries) ? body.BulkEmailEntries : [];
        const i = entries.length ? n % entries.length : 0;
        const e = entries[i] as Record<string, Json> | undefined;
        const T = '/DefaultContent/Template';
        switch (what) {
          case 'two-sources':
            if (!hasTemplate) return false;
            put(t as object, 'TemplateName', 'Other');
            put(t as object, 'TemplateArn', 'arn:aws:ses:us-east-1:123456789012:template/Other');
            ctx.paths = [T];
            return true;
          case 'data':
            if (!hasTemplate) return false;
            put(
              t as object,
              'TemplateData',
              pick(['[]', '1', 'null', '"x"', '{', '', 'true', '{"a":1}x', '[{"a":1}]', '{"a":1}}'], n) as string,
            );
            ctx.paths = [`${T}/TemplateData`];
            return true;
          case 'entry-data':
            if (typeOf(e as Json) !== 'object') return false;
            put(e as object, 'ReplacementEmailContent', {
              ReplacementTemplate: {
                ReplacementTemplateData: pick(['[]', '0', 'NaN', "{'a':1}", '{"a":}'], n) as string,
              },
            });
            ctx.paths = [`/BulkEmailEntries/${i}/ReplacementEmailContent/ReplacementTemplate/ReplacementTemplateData`];
            return true;
          case 'dup-header':
          case 'long-header': {
            if (!hasTemplate) return false;
            const list =
              what === 'dup-header'
                ? [
                    { Name: 'X-Same', Value: '1' },
                    { Name: 'x-SAME', Value: '2' },
                  ]
                : [{ Name: 'X-'.padEnd(120, 'n'), Value: 'v'.repeat(900) }];
            put(t as object, 'Headers', list);
            ctx.paths = what === 'dup-header' ? [`${T}/Headers/1/Name`] : [`${T}/Headers/0`];
            return true;
          }
          case 'base64':
            if (!hasTemplate) return false;
            put(t as object, 'Attachments', [
              {
                RawContent: pick(['abc', 'ab!=', 'A===', '====', 'YQ', 'YQ=a', 'Y Q=='], n) as string,
                FileName: 'f.bin',
              },
            ]);
            ctx.paths = [`${T}/Attachments/0/RawContent`];
            return true;
          case 'recipient':
            if (typeOf(e as Json) !== 'object') return false;
            put(e as object, 'Destination', {
              ToAddresses: [
                pick(
                  [
                    'no-at-sign',
                    'a@',
                    '@example.com',
                    'a b@example.com',
                    'a@exa mple.com',
                    'a@-example.com',
                    'Name <a@example.com>',
                    'a@example.com>',
                    '<a@example.com>',
                    'a@example..com',
                  ],
                  n,
                ) as string,
              ],
            });
            ctx.paths = [`/BulkEmailEntries/${i}/Destination/ToAddresses/0`];
            return true;
          case 'from':
            body.FromEmailAddress = pick(
              [
                'a@x.com, Me <me@y.com>',
                'Me <me@y.com>, a@x.com',
                'a@x.com;b@y.com',
                'Me <me@y.com',
                'Me me@y.com>',
                'x <a@b.com> <c@d.com>',
                'A: <a@b.com>',
              ],
              n,
            ) as string;
            ctx.paths = ['/FromEmailAddress'];
            return true;
          case 'endpoint':
            body.EndpointId = pick(['-abc', 'abc-', 'a..b', 'a_b', '.', 'a.b.'], n) as string;
            ctx.paths = ['/EndpointId'];
            return true;
          case 'tag':
            body.DefaultEmailTags = [{ Name: pick(['a b', 'a.b', 'a=b', 'ä', 'a:b'], n) as string, Value: 'v' }];
            ctx.paths = ['/DefaultEmailTags/0/Name'];
            return true;
          case 'header-name':
            if (!hasTemplate) return false;
            put(t as object, 'Headers', [
              { Name: pick(['X Bad', 'X:Bad', 'Ünï', 'X-Bad:', ':'], n) as string, Value: 'v' },
            ]);
            ctx.paths = [`${T}/Headers/0/Name`];
            return true;
          default:
            body.ConfigurationOverrides = {
              Tracking: { OpenTrackingEnabled: pick(['enabled', 'ENABLE', 'TRUE', ' ENABLED'], n) as string },
            };
            ctx.paths = ['/ConfigurationOverrides/Tracking/OpenTrackingEnabled'];
            return true;
        }
      },
    })),
);

/** Mutations that keep a valid body valid (big mail bodies, odd but legal characters): noise around the real problem. */
const noise: fc.Arbitrary<Mutation> = fc
  .tuple(
    fc.constantFrom('huge-text', 'odd-text', 'odd-subject', 'invalid-utf8-text'),
    fc.nat(),
    fc.oneof(
      { arbitrary: fc.integer({ min: 1, max: 2000 }), weight: 6 },
      { arbitrary: fc.integer({ min: 2000, max: 60_000 }), weight: 1 },
    ),
  )
  .map(([what, n, size]) => ({
    name: `noise-${what}`,
    apply: (ctx: Ctx) => {
      const kinds = what === 'odd-subject' ? ['one-line'] : ['free'];
      const slot = pick(
        stringSlots(ctx.body, (r) => kinds.includes(r.kind)),
        n,
      );
      if (!slot) return false;
      const s = slot.value as string;
      const odd = pick(['\r\n', '\u0000', '\u2028', '\u0085', '😀', '\ud800', '\ufeff', '\u202e'], n) as string;
      const value =
        what === 'huge-text'
          ? s + 'lorem ipsum '.repeat(Math.ceil(size / 12))
          : what === 'invalid-utf8-text'
            ? s + marker(ctx.splices, 'bytes', Buffer.from(pick(INVALID_UTF8, n) as number[]))
            : what === 'odd-subject'
              ? s + pick(['\u2028', '\u0085', '😀', '\ufeff', '\u202e', 'é'], n)
              : s + odd;
      setAt(ctx.body, slot.path, value);
      return true;
    },
  }));

/** Serializes with the splices: deep nesting as raw text, invalid UTF-8 as raw bytes. */
function serialize(body: Json, splices: Splices): { bytes: Buffer; text?: string } {
  let text = JSON.stringify(body);
  for (const [m, raw] of splices.text) text = text.replace(JSON.stringify(m), () => raw);
  if (splices.bytes.size === 0) return { bytes: Buffer.from(text), text };
  // Only intact markers are replaced: a later mutation may have cut one (its text then stays, as a plain string).
  const known = new RegExp(`(${[...splices.bytes.keys()].join('|')})`);
  const pieces = text.split(known);
  if (pieces.length === 1) return { bytes: Buffer.from(text), text };
  return {
    bytes: Buffer.concat(pieces.map((piece, i) => (i % 2 ? (splices.bytes.get(piece) as Buffer) : Buffer.from(piece)))),
  };
}

const JSON_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'Application/JSON',
  'application/vnd.api+json',
  'application/problem+json; charset=UTF-8',
];
const headersNoise = fc.record(
  {
    'content-type': fc.constantFrom(...JSON_TYPES),
    'idempotency-key': fc.stringMatching(/^[\x21-\x7e]{1,64}$/),
    prefer: fc.constantFrom('wait=5', 'wait=0', 'respond-async, wait=60'),
  },
  { requiredKeys: ['content-type'] },
);

/** A valid body broken by 1 to 3 mutations (the last one's problem must be reported), plus noise. */
export const brokenBody: fc.Arbitrary<FuzzCase> = fc
  .tuple(
    validBody,
    fc.array(invalidating, { minLength: 1, maxLength: 3 }),
    fc.array(noise, { maxLength: 2 }),
    headersNoise,
  )
  .map(([valid, mutations, noises, headers]) => {
    const ctx: Ctx = {
      body: JSON.parse(JSON.stringify(valid)) as Json,
      splices: { text: new Map(), bytes: new Map() },
      paths: [],
    };
    const kinds: string[] = [];
    let applied = 0;
    for (const m of noises) if (m.apply(ctx)) kinds.push(m.name);
    for (const m of mutations) {
      if (m.apply(ctx)) {
        kinds.push(m.name);
        applied += 1;
      }
    }
    if (applied === 0) {
      // Every mutation missed its target (e.g. no attachment to break): fall back to an unknown root field.
      put(ctx.body as object, 'Unknown', 1);
      ctx.paths = ['/Unknown'];
      kinds.push('extra-key');
    }
    const { bytes, text } = serialize(ctx.body, ctx.splices);
    const utf8Broken = text === undefined;
    ctx.paths = ctx.paths.flatMap(widen);
    if (bytes.length > FUZZ_LIMITS.bodyLimit) {
      return { kinds: [...kinds, 'over-body-limit'], headers, body: bytes, codes: ['PAYLOAD_TOO_LARGE'] };
    }
    return {
      kinds,
      headers,
      body: bytes,
      // Invalid UTF-8 in a field that allows non-ASCII is read as U+FFFD, so the last mutation decides; structural
      // damage is INVALID_JSON.
      codes: utf8Broken ? ['VALIDATION_ERROR', 'INVALID_JSON'] : ['VALIDATION_ERROR'],
      paths: ctx.paths,
      exactText: text,
    };
  });

type Encoding = 'gzip' | 'deflate' | 'br';

export function compress(encoding: Encoding, bytes: Buffer): Buffer {
  if (encoding === 'gzip') return gzipSync(bytes);
  if (encoding === 'deflate') return deflateSync(bytes);
  return brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } });
}

const bombs = new Map<string, Buffer>();
/** `mb` megabytes of spaces, compressed (a few kilobytes on the wire); built once per size. */
export function compressionBomb(encoding: Encoding, mb: number): Buffer {
  const key = `${encoding}:${mb}`;
  let bomb = bombs.get(key);
  if (!bomb) {
    bomb = compress(encoding, Buffer.alloc(Math.round(mb * 1024 * 1024), ' '));
    bombs.set(key, bomb);
  }
  return bomb;
}

/** Splices bytes between JSON tokens (never inside a string): the text stops being JSON. */
function structuralPositions(text: string): number[] {
  const out: number[] = [];
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    out.push(i);
  }
  return out;
}

/** Anything but a broken valid body: junk, wrong media types, encodings, keys and sizes. */
export const junkRequest: fc.Arbitrary<FuzzCase> = fc.oneof(
  // JSON that is not an object.
  fc
    .oneof(
      fc.constant(null),
      fc.boolean(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.string({ maxLength: 30 }),
      fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
    )
    .map((v) => ({
      kinds: ['not-an-object'],
      headers: {},
      body: Buffer.from(JSON.stringify(v)),
      codes: ['VALIDATION_ERROR'],
      paths: [''],
      exactText: JSON.stringify(v),
    })),
  // A random object (random keys, random values, prototype names among them).
  fc
    .dictionary(
      fc.oneof(hostileKey, fc.constantFrom('DefaultContent', 'BulkEmailEntries', 'FromEmailAddress')),
      fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
      { maxKeys: 6 },
    )
    .map((d) => {
      const obj = {};
      for (const [k, v] of Object.entries(d)) put(obj, k, v);
      const text = JSON.stringify(obj);
      return {
        kinds: ['random-object'],
        headers: {},
        body: Buffer.from(text),
        codes: ['VALIDATION_ERROR'],
        exactText: text,
      };
    }),
  // Text and bytes that are mostly not JSON at all (empty and whitespace bodies included).
  fc
    .oneof(
      fc.string({ maxLength: 60 }),
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.constantFrom(
        '',
        ' ',
        '\n',
        '{',
        '}',
        '[',
        '{"a":',
        'nul',
        'NaN',
        'undefined',
        '{"a":1,}',
        "{'a':1}",
        '\ufeff',
        '1e999',
        '-',
        '{"a":1}{"b":2}',
      ),
    )
    .map((s) => ({
      kinds: ['junk-text'],
      headers: {},
      body: Buffer.from(s),
      codes: ['INVALID_JSON', 'VALIDATION_ERROR'],
    })),
  fc.uint8Array({ maxLength: 80 }).map((b) => ({
    kinds: ['junk-bytes'],
    headers: {},
    body: Buffer.from(b),
    codes: ['INVALID_JSON', 'VALIDATION_ERROR'],
  })),
  // A valid body cut short.
  fc.tuple(validBody, fc.nat()).map(([v, n]) => {
    const text = JSON.stringify(v);
    return {
      kinds: ['truncated'],
      headers: {},
      body: Buffer.from(text.slice(0, n % text.length)),
      codes: ['INVALID_JSON', 'VALIDATION_ERROR'],
    };
  }),
  // Invalid UTF-8 between tokens.
  fc.tuple(validBody, fc.nat(), fc.nat()).map(([v, n, b]) => {
    const text = JSON.stringify(v);
    const at = pick(structuralPositions(text), n) as number;
    const body = Buffer.concat([
      Buffer.from(text.slice(0, at)),
      Buffer.from(pick(INVALID_UTF8, b) as number[]),
      Buffer.from(text.slice(at)),
    ]);
    return { kinds: ['invalid-utf8-structural'], headers: {}, body, codes: ['INVALID_JSON'] };
  }),
  // A valid body with a media type that is not JSON (or a charset that is not UTF-8): refused before parsing.
  fc
    .tuple(
      validBody,
      fc.constantFrom(
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/xml',
        'json',
        'application/jsonx',
        'text/json',
        '*/*',
        'application/json; charset=latin1',
        'application/json; charset=iso-8859-1',
        'application/json; charset=nope',
      ),
    )
    .map(([v, type]) => ({
      kinds: ['media-type'],
      headers: { 'content-type': type },
      body: Buffer.from(JSON.stringify(v)),
      codes: ['UNSUPPORTED_MEDIA_TYPE'],
    })),
  // A valid body with an Idempotency-Key the contract refuses (empty, over 255 characters, not visible ASCII).
  fc
    .tuple(
      validBody,
      fc.oneof(
        fc.constant(''),
        fc.integer({ min: 256, max: 2000 }).map((n) => 'k'.repeat(n)),
        fc.constantFrom('a b', 'é', 'key\t1', 'x"y z', 'a\u00a0b'),
      ),
    )
    .map(([v, key]) => ({
      kinds: ['idempotency-key'],
      headers: { 'idempotency-key': key },
      body: Buffer.from(JSON.stringify(v)),
      codes: ['IDEMPOTENCY_KEY_INVALID'],
    })),
  // Compressed bodies: a broken body compressed properly, and a compression bomb over the body limit.
  fc
    .tuple(brokenBody, fc.constantFrom<Encoding>('gzip', 'deflate', 'br'), fc.boolean(), fc.constantFrom(1.5, 2, 4))
    .map(([c, encoding, bomb, mb]) => {
      if (bomb)
        return {
          kinds: [`${encoding}-bomb`],
          headers: { 'content-encoding': encoding },
          body: compressionBomb(encoding, mb),
          codes: ['PAYLOAD_TOO_LARGE'],
        };
      return {
        ...c,
        kinds: [encoding, ...c.kinds],
        headers: { ...c.headers, 'content-encoding': encoding },
        body: compress(encoding, c.body),
      };
    }),
);

/** Everything, mostly broken bodies. */
export const hostileRequest: fc.Arbitrary<FuzzCase> = fc.oneof(
  { arbitrary: brokenBody, weight: 7 },
  { arbitrary: junkRequest, weight: 3 },
);

/* ------------------------------------------------------------------ hostile templates (sent as dry runs) */

/** Pieces of Handlebars-like source: well-formed, broken, and prototype-flavoured. */
const TEMPLATE_PIECES = [
  '{{name}}',
  '{{',
  '}}',
  '{{{',
  '}}}',
  '{{{name}}}',
  '{{&name}}',
  '{{#if name}}',
  '{{/if}}',
  '{{#each items}}',
  '{{/each}}',
  '{{else}}',
  '{{^}}',
  '{{^name}}',
  '{{#unless a}}',
  '{{/unless}}',
  '{{> p}}',
  '{{#> p}}',
  '{{/p}}',
  '{{!-- c }} --}}',
  '{{! c }}',
  '{{!--',
  '{{{{raw}}}}',
  '{{{{/raw}}}}',
  '\\{{name}}',
  '\\\\{{name}}',
  '{{a (b (c d))}}',
  '{{a k=v k2=(x y)}}',
  '{{lookup . "x"}}',
  '{{@root.name}}',
  '{{@index}}',
  '{{../name}}',
  '{{this}}',
  '{{this.name}}',
  '{{./name}}',
  '{{[a b]}}',
  '{{[}}',
  '{{"str}}',
  "{{'",
  '{{a "x}}y"}}',
  '{{__proto__}}',
  '{{__proto__.polluted}}',
  '{{constructor.prototype.polluted}}',
  '{{prototype}}',
  '{{toString}}',
  '{{a.b.c}}',
  '{{a/b}}',
  '{{a.[0]}}',
  '{{#with a as |b c|}}',
  '{{/with}}',
  '{{*decorator}}',
  '{{#*inline "p"}}',
  '{{/inline}}',
  '{{~name~}}',
  '{{~}}',
  '{{=<% %>=}}',
  '{{a}}}',
  '{{{a}}',
  '{{ }}',
  '{{#}}',
  '{{/}}',
  '{{a b=}}',
  '{{a as |x}}',
  '{{-1}}',
  '{{1.5}}',
  '{{true}}',
  '{{null}}',
  '{{undefined}}',
  'plain text',
  'Grüße 😀',
  '\r\n',
  '}}{{',
  '{{#if}}',
  '{{#each}}{{/if}}',
  '{{else if x}}',
  '{{#if a}}{{else}}{{else}}{{/if}}',
];

const templateText: fc.Arbitrary<string> = fc.oneof(
  {
    arbitrary: fc
      .array(fc.oneof(fc.constantFrom(...TEMPLATE_PIECES), fc.string({ maxLength: 8 })), { maxLength: 30 })
      .map((p) => p.join('')),
    weight: 6,
  },
  // Nesting, below the depth at which the render check is known to overflow the stack (corpus: nested-blocks-*).
  {
    arbitrary: fc
      .tuple(
        fc.constantFrom(
          ['{{#if a}}', '{{/if}}'],
          ['{{#each a}}', '{{/each}}'],
          ['{{#with a}}', '{{/with}}'],
          ['{{#if a}}', ''],
        ),
        fc.integer({ min: 1, max: 500 }),
      )
      .map(([[open, close], n]) => `${open.repeat(n)}{{name}}{{../name}}${close.repeat(n)}`),
    weight: 1,
  },
  // Subexpressions and paths thousands deep, repeated tags, unterminated strings.
  {
    arbitrary: fc
      .tuple(
        fc.constantFrom('parens', 'path', 'tags', 'quotes', 'brackets', 'comments'),
        fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constantFrom(3_000, 10_000)),
      )
      .map(([what, n]) => {
        switch (what) {
          case 'parens':
            return `{{a ${'('.repeat(n)}b${')'.repeat(n)}}}`;
          case 'path':
            return `{{${'a.'.repeat(n)}b}}`;
          case 'tags':
            return '{{name}}'.repeat(n);
          case 'quotes':
            return `{{a "${'\\"'.repeat(n)}}}`;
          case 'brackets':
            return '{{['.repeat(n);
          default:
            return '{{!-- '.repeat(n);
        }
      }),
    weight: 1,
  },
);

/** Template data as JSON text: prototype keys, deep nesting, odd values. */
const templateDataText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '{"name":"x"}',
    '{"__proto__":{"polluted":"yes"},"name":"x"}',
    '{"constructor":{"prototype":{"polluted":"yes"}},"name":"x"}',
    '{"name":{"__proto__":{"polluted":1}}}',
    '{"name":null,"items":[1,2,{"a":{}}]}',
    '{"a":{"b":{"c":"d"}},"name":"x","this":1,"@root":2,"../name":3}',
    '{}',
  ),
  fc
    .oneof(fc.integer({ min: 1, max: 300 }), fc.constantFrom(3_000, 10_000))
    .map((n) => `{"name":"x","a":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`),
  fc
    .oneof(fc.integer({ min: 1, max: 300 }), fc.constantFrom(3_000, 10_000))
    .map((n) => `{"name":"x","items":${'['.repeat(n)}${']'.repeat(n)}}`),
  fc.dictionary(fc.oneof(hostileKey, word), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }).map((d) => {
    const obj = {};
    for (const [k, v] of Object.entries(d)) put(obj, k, v as Json);
    return JSON.stringify(obj);
  }),
);

/**
 * Schema-valid bodies whose inline template or data is hostile, sent as `?dry_run=true`: the render check parses
 * them. The answer is 200 (a plan) or 400 VALIDATION_ERROR, never a 5xx; nothing is stored either way.
 */
export const hostileTemplate: fc.Arbitrary<FuzzCase> = fc
  .tuple(
    fc.record({ Subject: templateText, Text: templateText, Html: templateText }, { requiredKeys: [] }),
    fc.option(templateDataText, { nil: undefined }),
    fc.array(fc.option(templateDataText, { nil: undefined }), { minLength: 1, maxLength: 3 }),
  )
  .map(([content, data, entries]) => {
    const template: Record<string, Json> = { TemplateContent: content };
    if (data !== undefined) template.TemplateData = data;
    const body = {
      FromEmailAddress: 'sender@example.com',
      DefaultContent: { Template: template },
      BulkEmailEntries: entries.map((d, i) => ({
        Destination: { ToAddresses: [`user${i}@example.com`] },
        ...(d === undefined
          ? {}
          : { ReplacementEmailContent: { ReplacementTemplate: { ReplacementTemplateData: d } } }),
      })),
    };
    const text = JSON.stringify(body);
    const tooBig = Buffer.byteLength(text) > FUZZ_LIMITS.bodyLimit;
    return {
      kinds: ['hostile-template'],
      headers: {},
      body: Buffer.from(text),
      codes: tooBig ? ['PAYLOAD_TOO_LARGE'] : ['VALIDATION_ERROR'],
      mayAccept: !tooBig,
    };
  });

/* ------------------------------------------------------------------ hostile paths and query strings */

/** Methods, ids, sub-paths and query strings for the routes, as raw paths under `/bulk-email`. */
export function hostilePath(job: string): fc.Arbitrary<{ method: string; path: string; who: string }> {
  const segment = fc.oneof(
    { arbitrary: fc.constant(job), weight: 4 },
    {
      arbitrary: fc
        .string({ maxLength: 40 })
        .filter((x) => x !== '.' && x !== '..')
        .map(encodeURIComponent),
      weight: 3,
    },
    fc.uuid(),
    // Dot segments (`..`, `%2e%2e`, `.`) are left out: clients and Express's router resolve them, so
    // `/bulk-email/%2e%2e/x` is not under the mount path (Express answers it, not the router).
    fc.constantFrom('%00', '%2F', '%20', '~', 'openapi.json', 'results', 'cancel', '%C3%A9', '%F0%9F%98%80'),
    // Malformed percent-encodings (Express cannot decode the parameter).
    fc.constantFrom('%', '%FF', '%E0%A4%A', '%ZZ', 'a%', '%%', '%C0%80', '%ED%A0%80'),
    fc.constantFrom(
      '__proto__',
      'constructor',
      'prototype',
      'hasOwnProperty',
      'toString',
      'k'.repeat(129),
      'k'.repeat(5000),
    ),
    fc.constant(`${job}%00`),
    fc.constant(job.toUpperCase()),
  );
  const value = fc.oneof(
    fc.constantFrom('0', '1', '100', '1000', '1001', '-1', '1e3', '01', '', ' 5', '5 ', '0x10', 'NaN', '99999999999'),
    fc.string({ maxLength: 20 }).map(encodeURIComponent),
    fc.base64String({ maxLength: 48 }).map(encodeURIComponent),
    fc.nat().map((n) => Buffer.from(`i:${n}`).toString('base64url')),
    fc.constantFrom(
      Buffer.from('i:-1').toString('base64url'),
      Buffer.from('i:1e9').toString('base64url'),
      Buffer.from('i:').toString('base64url'),
    ),
  );
  const query = fc
    .array(
      fc.tuple(
        fc.constantFrom(
          'limit',
          'cursor',
          'limit[]',
          'cursor[a]',
          'dry_run',
          'status',
          'status[]',
          'send_at',
          '__proto__',
          'constructor[prototype]',
        ),
        value,
      ),
      { maxLength: 4 },
    )
    .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));
  const shape = fc.constantFrom(
    '',
    '/',
    '/openapi.json',
    '/:id',
    '/:id/results',
    '/:id/cancel',
    '/:id/pause',
    '/:id/resume',
    '/:id/:id',
    '/:id/results/:id',
    '/:id/cancel/',
  );
  return fc
    .record({
      method: fc.constantFrom('GET', 'GET', 'GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
      shape,
      a: segment,
      b: segment,
      query,
      who: fc.constantFrom(PRINCIPAL, PRINCIPAL, 'mallory', ''),
    })
    .map(({ method, shape, a, b, query, who }) => {
      let n = 0;
      const path = `/bulk-email${shape.replace(/:id/g, () => (n++ === 0 ? a : b))}${query}`;
      return { method, path, who };
    });
}

/** What a failing case looks like as a corpus file (format: corpus.ts). */
export function corpusEntry(c: FuzzCase, seed: number): string {
  return JSON.stringify(
    {
      description: `found by the fuzzer (seed ${seed}): ${c.kinds.join(', ')}`,
      target: 'small',
      request: {
        headers: c.headers,
        ...(c.mayAccept ? { query: 'dry_run=true' } : {}),
        base64: c.body.toString('base64'),
      },
      expect: { codes: c.codes, ...(c.mayAccept ? { status: [200, 400] } : {}) },
    },
    null,
    2,
  );
}

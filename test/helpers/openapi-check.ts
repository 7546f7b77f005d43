// Checks one HTTP response of the router against its OpenAPI document: path, method, status, content type, body.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import { ERROR_STATUS } from '../../src/errors.js';
import { buildOpenApi, type OpenApiDocument } from '../../src/validation/openapi.js';

/** Where the suites mount the router; responses to other paths are not the router's and are not checked. */
export const MOUNTS = ['/bulk-email'];

export interface ObservedResponse {
  method: string;
  /** The request path as sent, query string included. */
  path: string;
  status: number;
  contentType: string | undefined;
  /** The raw body; undefined when it was not read (a stream the client did not finish). */
  body: string | undefined;
}

type Schema = Record<string, unknown>;
interface Operation {
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}

/**
 * The document as a test reads it: every object schema that lists its properties also refuses others, so a field
 * the router sends but the document does not name fails. (The served document stays open, so that clients
 * generated from it accept fields added later.)
 */
function strict(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strict);
  if (value === null || typeof value !== 'object') return value;
  const out: Schema = {};
  for (const [key, child] of Object.entries(value))
    out[key] = key === 'const' || key === 'enum' ? child : strict(child);
  if (out.type === 'object' && out.properties && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

/** `#/components/…` references, made absolute so that a schema compiled on its own finds the document's parts. */
function absolute(value: unknown, base: string): unknown {
  if (Array.isArray(value)) return value.map((v) => absolute(v, base));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string' ? `${base}${v}` : absolute(v, base),
    ]),
  );
}

interface PathTemplate {
  template: string;
  segments: string[];
  item: Record<string, Operation>;
}

function segmentsOf(path: string): string[] {
  return path.split('/').filter((s, i, all) => s !== '' || (i > 0 && i < all.length - 1));
}

/** Literal segments before parameters, as OpenAPI ranks them (`/openapi.json` wins over `/{id}`). */
function rank(a: PathTemplate, b: PathTemplate): number {
  for (let i = 0; i < Math.min(a.segments.length, b.segments.length); i++) {
    const pa = a.segments[i].startsWith('{');
    const pb = b.segments[i].startsWith('{');
    if (pa !== pb) return pa ? 1 : -1;
  }
  return 0;
}

export interface ResponseChecker {
  /** Whether a request to this path (query string allowed) reaches the router. */
  owns(path: string): boolean;
  /** Problems with this response (empty when it matches the document, or is not the router's). */
  check(response: ObservedResponse): string[];
  document: OpenApiDocument;
}

export function responseChecker(document: OpenApiDocument = buildOpenApi()): ResponseChecker {
  const ajv = new Ajv2020({ strict: false, allErrors: true, logger: false });
  addFormatsPlugin.default(ajv);
  const base = 'urn:express-bulk-email:openapi';
  ajv.addSchema({ $id: base, components: strict(document.components) } as never);
  const compiled = new Map<unknown, ValidateFunction>();
  const validator = (schema: unknown): ValidateFunction => {
    let fn = compiled.get(schema);
    if (!fn) {
      fn = ajv.compile(absolute(strict(schema), base) as Schema);
      compiled.set(schema, fn);
    }
    return fn;
  };
  const errorEnvelope = { $ref: '#/components/schemas/ErrorEnvelope' };
  const templates: PathTemplate[] = Object.entries(document.paths)
    .map(([template, item]) => ({ template, segments: segmentsOf(template), item: item as Record<string, Operation> }))
    .sort(rank);

  const match = (path: string): PathTemplate | undefined => {
    const segments = segmentsOf(path);
    return templates.find(
      (t) =>
        t.segments.length === segments.length &&
        t.segments.every((s, i) => (s.startsWith('{') ? segments[i] !== '' : s === segments[i])),
    );
  };

  const validate = (schema: unknown, body: unknown, what: string): string[] => {
    const fn = validator(schema);
    if (fn(body)) return [];
    const errors = (fn.errors ?? []).map((e) => {
      const extra = (e.params as { additionalProperty?: string }).additionalProperty;
      return `body${e.instancePath} ${e.message}${extra ? ` (${extra})` : ''}`;
    });
    return [`${what}: ${[...new Set(errors)].join('; ')}`];
  };

  /** An envelope error answered where no operation is (unknown route, wrong method): any code, at its status. */
  const checkError = (res: ObservedResponse, json: unknown, what: string): string[] => {
    const problems = validate(errorEnvelope, json, what);
    const code = (json as { error?: { code?: string } })?.error?.code;
    const status = ERROR_STATUS[code as keyof typeof ERROR_STATUS];
    if (status !== undefined && status !== res.status) problems.push(`${what}: ${code} is answered with ${status}`);
    return problems;
  };

  const mountOf = (path: string) => {
    const { pathname } = new URL(path, 'http://x');
    return MOUNTS.find((m) => pathname === m || pathname.startsWith(`${m}/`));
  };

  function check(res: ObservedResponse): string[] {
    const url = new URL(res.path, 'http://x');
    const mount = mountOf(res.path);
    if (mount === undefined) return [];
    const routePath = url.pathname.slice(mount.length) || '/';
    const method = res.method.toLowerCase() === 'head' ? 'get' : res.method.toLowerCase();
    const template = match(routePath);
    const operation = template?.item[method];
    const what = `${res.method} ${res.path} → ${res.status}${operation ? ` (${method.toUpperCase()} ${template?.template})` : ''}`;
    const media = res.contentType?.split(';')[0].trim().toLowerCase();
    const head = res.method.toLowerCase() === 'head';
    const hasBody = !head && res.body !== undefined && res.body !== '';

    if (!operation) {
      // No operation here: the router still answers an envelope (404 NOT_FOUND, 405, 401, 500).
      if (media !== 'application/json') return [`${what}: content type ${res.contentType} is not application/json`];
      if (head) return [];
      if (!hasBody) return [`${what}: no body`];
      const json = parse(res.body as string);
      return json === PARSE_FAILED ? [`${what}: the body is not JSON`] : checkError(res, json, what);
    }
    const response = operation.responses[String(res.status)] ?? operation.responses.default;
    if (!response) {
      const listed = Object.keys(operation.responses).join(', ');
      return [`${what}: status ${res.status} is not in the document (it lists ${listed})`];
    }
    if (!response.content) return hasBody ? [`${what}: the document lists no body, the router sent one`] : [];
    if (!media || !(media in response.content)) {
      return [`${what}: content type ${res.contentType} is not in the document (${Object.keys(response.content)})`];
    }
    if (!hasBody) return head || res.body === undefined ? [] : [`${what}: no body`];
    if (media !== 'application/json') return []; // streams and pages: the type is checked, not the bytes
    const json = parse(res.body as string);
    if (json === PARSE_FAILED) return [`${what}: the body is not JSON`];
    return validate(response.content[media].schema, json, what);
  }

  return { owns: (path) => mountOf(path) !== undefined, check, document };
}

const PARSE_FAILED = Symbol('not JSON');

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return PARSE_FAILED;
  }
}

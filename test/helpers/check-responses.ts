// Vitest setup file: every response a test receives from the router (supertest, node:http, fetch) must match the OpenAPI document.
//
// Requests go through node:http (supertest, raw clients) or fetch; both are watched here, so no suite has to opt in.
// Only paths under MOUNTS (test/helpers/openapi-check.ts) are the router's; others (the SES emulator, a host
// app's own routes) are left alone. A mismatch fails the test that received the response: fetch throws at once,
// node:http responses are checked when their body ends and reported by the afterEach hook below.
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import { syncBuiltinESMExports } from 'node:module';
import { afterAll, afterEach } from 'vitest';
import { type ObservedResponse, responseChecker } from './openapi-check.js';

const checker = responseChecker();
const problems: string[] = [];

function report(observed: ObservedResponse): void {
  for (const problem of checker.check(observed)) problems.push(problem);
}

/** Watches the response's own events, so that the reader's pace and mode (flowing or paused) stay as they were. */
function watch(req: ClientRequest, res: IncomingMessage): void {
  const chunks: Buffer[] = [];
  const emit = res.emit;
  res.emit = function (this: IncomingMessage, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'data') chunks.push(Buffer.from(args[0] as Buffer));
    else if (event === 'end') {
      report({
        method: req.method,
        path: req.path,
        status: res.statusCode ?? 0,
        contentType: res.headers['content-type'],
        body: Buffer.concat(chunks).toString('utf8'),
      });
    }
    return emit.call(this, event, ...args);
  } as IncomingMessage['emit'];
}

function instrument<F extends (...args: never[]) => ClientRequest>(original: F): F {
  return function (this: unknown, ...args: Parameters<F>) {
    const req = original.apply(this, args);
    req.prependListener('response', (res: IncomingMessage) => watch(req, res));
    return req;
  } as F;
}

http.request = instrument(http.request);
http.get = instrument(http.get);
syncBuiltinESMExports(); // `import { request } from 'node:http'` sees the wrapped function too

const originalFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const res = await originalFetch(input, init);
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (!checker.owns(url.pathname)) return res;
  const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
  const type = res.headers.get('content-type') ?? undefined;
  const streamed = type?.startsWith('text/event-stream') ?? false;
  const found = checker.check({
    method,
    path: `${url.pathname}${url.search}`,
    status: res.status,
    contentType: type,
    body: streamed ? undefined : await res.clone().text(),
  });
  if (found.length) throw new Error(`The response does not match the OpenAPI document:\n${found.join('\n')}`);
  return res;
};

const flush = () => {
  if (!problems.length) return;
  const found = problems.splice(0);
  throw new Error(`Responses that do not match the OpenAPI document:\n${found.join('\n')}`);
};
afterEach(flush);
afterAll(flush);

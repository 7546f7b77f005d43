// boundedGet(): one HTTPS GET with a deadline for the whole exchange, no redirects, and a cap on the body read.

export interface BoundedGetOptions {
  /** The whole exchange (connect, headers and body) must finish within this many ms. */
  timeoutMs: number;
  /** A body larger than this is not read on: the GET fails with `too-large`. */
  maxBytes: number;
}

/** Why a GET failed: `unreachable` may pass (network, timeout, 5xx); the others will not (4xx, 3xx, size). */
export class GetFailure extends Error {
  constructor(
    readonly kind: 'unreachable' | 'refused' | 'too-large',
    message: string,
  ) {
    super(message);
    this.name = 'GetFailure';
  }
}

async function readCapped(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Buffer> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new GetFailure('too-large', `the answer is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/**
 * GETs `url` and resolves with the body as UTF-8 text when the answer is 200. A redirect is a failure (the caller
 * checked the host it trusts; it must not be sent elsewhere), and so is any other status.
 */
export async function boundedGet(url: string, options: BoundedGetOptions): Promise<string> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'manual', signal, headers: { accept: '*/*' } });
  } catch (err) {
    throw new GetFailure('unreachable', signal.aborted ? 'timed out' : `unreachable (${(err as Error).name})`);
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    const kind = response.status >= 500 || response.status === 429 ? 'unreachable' : 'refused';
    throw new GetFailure(kind, `answered HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length'));
  if (declared > options.maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new GetFailure('too-large', `the answer is larger than ${options.maxBytes} bytes`);
  }
  try {
    return response.body ? (await readCapped(response.body, options.maxBytes)).toString('utf8') : '';
  } catch (err) {
    if (err instanceof GetFailure) throw err;
    throw new GetFailure('unreachable', signal.aborted ? 'timed out' : 'the answer broke off');
  }
}

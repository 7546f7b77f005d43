// Reads the regression corpus (corpus/*.json): hostile requests found by the fuzzer or written by hand, replayed every run.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compress } from './hostile-bodies.js';

/**
 * One corpus file. The body is `json` (serialized), `text` (sent as UTF-8) or `base64` (raw bytes); then
 * `expand` replaces a quoted marker string (`"@@DEEP@@"`, quotes included) with raw text built as
 * `prefix + open × times + middle + close × times + suffix` (deep nesting, huge strings, thousands of entries),
 * `splice` replaces a bare marker (anywhere, e.g. inside a string) with raw bytes written in hex (invalid UTF-8), and
 * `encoding` compresses the result and sets Content-Encoding.
 */
export interface CorpusFile {
  description: string;
  /** `small`: bodyLimit 1 MiB and maxEntries 100 (FUZZ_LIMITS); `default`: the package defaults. */
  target: 'small' | 'default';
  request: {
    /** Default POST to the mount path; `path` is sent as written (percent-encoding included), after `/bulk-email`. */
    method?: string;
    path?: string;
    query?: string;
    headers?: Record<string, string>;
    json?: unknown;
    text?: string;
    base64?: string;
    expand?: Record<
      string,
      { prefix?: string; open: string; middle?: string; close?: string; suffix?: string; times: number }
    >;
    splice?: Record<string, string>;
    encoding?: 'gzip' | 'deflate' | 'br';
  };
  expect: {
    /** Allowed statuses; default any 4xx. */
    status?: number | number[];
    /** Allowed error codes (for refusals). */
    codes?: string[];
    /** At least one of these must be a `details[].path`. */
    paths?: string[];
  };
  /**
   * Set while the package gets this case wrong: the replay then expects the check to fail (vitest `it.fails`), and
   * fails once the bug is fixed, as a reminder to delete this field. `FUZZ_SHOW_BUGS=1` runs them as plain tests.
   */
  knownBug?: string;
}

export interface CorpusCase extends CorpusFile {
  name: string;
  headers: Record<string, string>;
  body: Buffer;
}

const DIR = fileURLToPath(new URL('./corpus/', import.meta.url));

export function buildBody(request: CorpusFile['request']): Buffer {
  let text = request.json !== undefined ? JSON.stringify(request.json) : (request.text ?? '');
  for (const [marker, e] of Object.entries(request.expand ?? {})) {
    const raw = `${e.prefix ?? ''}${e.open.repeat(e.times)}${e.middle ?? ''}${(e.close ?? '').repeat(e.times)}${e.suffix ?? ''}`;
    text = text.split(JSON.stringify(marker)).join(raw);
  }
  let bytes = request.base64 !== undefined ? Buffer.from(request.base64, 'base64') : Buffer.from(text);
  for (const [marker, hex] of Object.entries(request.splice ?? {})) {
    const pieces = bytes.toString('latin1').split(marker);
    const raw = Buffer.from(hex.replace(/\s+/g, ''), 'hex');
    bytes = Buffer.concat(
      pieces.flatMap((p, i) => (i === 0 ? [Buffer.from(p, 'latin1')] : [raw, Buffer.from(p, 'latin1')])),
    );
  }
  return request.encoding ? compress(request.encoding, bytes) : bytes;
}

export function loadCorpus(): CorpusCase[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const file = JSON.parse(readFileSync(`${DIR}${f}`, 'utf8')) as CorpusFile;
      const headers = { ...(file.request.headers ?? {}) };
      if (file.request.encoding) headers['content-encoding'] = file.request.encoding;
      return { ...file, name: f.slice(0, -'.json'.length), headers, body: buildBody(file.request) };
    });
}

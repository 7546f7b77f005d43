// fakeSes(): a hand-written SESv2Client double that records each SendBulkEmail call and answers with a script.
import {
  type BulkEmailEntryResult,
  type GetAccountCommandOutput,
  type SESv2Client,
  SESv2ServiceException,
  type SendBulkEmailCommandInput,
} from '@aws-sdk/client-sesv2';
import type { BulkEmailEntry } from '../../src/types.js';

export interface FakeCall {
  /** 0-based call number. */
  n: number;
  input: SendBulkEmailCommandInput;
  entries: BulkEmailEntry[];
  /** The To addresses of each entry, joined — the easiest handle on "which entries went out". */
  to: string[];
  signal?: AbortSignal;
}

export interface FakeAnswer {
  results?: BulkEmailEntryResult[];
  requestId?: string;
}

/** Returns the answer for one call, or throws to fail the whole call. May wait (e.g. until the signal aborts). */
export type Script = (call: FakeCall) => FakeAnswer | Promise<FakeAnswer>;

export interface FakeSes {
  client: SESv2Client;
  calls: FakeCall[];
  /** GetAccount calls so far. */
  accountCalls: number;
}

export const success: Script = (call) => ({
  results: call.entries.map((_, i) => ({ Status: 'SUCCESS', MessageId: `m-${call.n}-${i}` })),
  requestId: `req-${call.n}`,
});

/** Per-entry statuses picked by a function of the entry's first To address and the call number. */
export function statusBy(pick: (to: string, call: FakeCall) => string): Script {
  return (call) => ({
    results: call.to.map((to, i) => {
      const Status = pick(to, call) as BulkEmailEntryResult['Status'];
      return Status === 'SUCCESS'
        ? { Status, MessageId: `m-${call.n}-${i}` }
        : { Status, Error: `${Status} for ${to}` };
    }),
    requestId: `req-${call.n}`,
  });
}

/** Runs `scripts[n]` for call n, the last one for every later call. */
export function sequence(...scripts: Script[]): Script {
  return (call) => scripts[Math.min(call.n, scripts.length - 1)](call);
}

/** An error shaped as the SDK throws for an SES answer (name, $fault, $metadata.httpStatusCode). */
export function sesError(name: string, httpStatusCode: number, message = name): SESv2ServiceException {
  return new SESv2ServiceException({
    name,
    message,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode, requestId: 'err-req' },
  });
}

/** A Node network error (`code` like ECONNRESET), as the HTTP handler rejects with. */
export function nodeError(code: string, message = `${code.toLowerCase()} happened`): Error {
  return Object.assign(new Error(message), { code });
}

/** Never answers; rejects like the SDK's handler once the call's abort signal fires (timeout). */
export const hang: Script = (call) =>
  new Promise((_, reject) => {
    const fail = () => {
      const err = new Error('Request aborted');
      err.name = 'AbortError';
      (err as Error & { cause?: unknown }).cause = call.signal?.reason;
      reject(err);
    };
    if (call.signal?.aborted) fail();
    else call.signal?.addEventListener('abort', fail, { once: true });
  });

export function fakeSes(script: Script = success, account?: () => Partial<GetAccountCommandOutput>): FakeSes {
  const calls: FakeCall[] = [];
  const fake: FakeSes = { client: undefined as unknown as SESv2Client, calls, accountCalls: 0 };
  const client = {
    config: {},
    async send(command: { input: unknown; constructor: { name: string } }, options?: { abortSignal?: AbortSignal }) {
      if (command.constructor.name === 'GetAccountCommand') {
        fake.accountCalls++;
        if (!account) throw sesError('BadRequestException', 400, 'Account not found');
        return { $metadata: { httpStatusCode: 200 }, ...account() };
      }
      const input = command.input as SendBulkEmailCommandInput;
      const entries = (input.BulkEmailEntries ?? []) as BulkEmailEntry[];
      const call: FakeCall = {
        n: calls.length,
        input,
        entries,
        to: entries.map((e) => (e.Destination.ToAddresses ?? []).join(',')),
        signal: options?.abortSignal,
      };
      calls.push(call);
      const answer = await script(call);
      return {
        BulkEmailEntryResults: answer.results ?? [],
        $metadata: { httpStatusCode: 200, requestId: answer.requestId },
      };
    },
    destroy() {},
  };
  fake.client = client as unknown as SESv2Client;
  return fake;
}

// sendTracker(): sees whether an SES call's HTTP request ever got a connected socket, to tell "never left" from "unknown".
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import type { Socket } from 'node:net';
import type { SendStage } from './classify.js';

/*
 * How: sendBulkEmailCall adds two middleware to its own command — one at the very start of the stack (proves the
 * stack ran) and one at the very end, right before the HTTP handler (proves the handler was reached). The inner one
 * runs the handler inside this tracker's AsyncLocalStorage, and a subscriber to Node's `http.client.request.start`
 * diagnostics channel (published synchronously by http.request, so it sees that store) takes the ClientRequest of
 * THIS call and watches its socket: a reused keep-alive socket counts as connected at once, a new one on `connect`
 * (`secureConnect` for TLS). No socket connected ⇒ no byte reached SES ⇒ safe to resend. A connected socket ⇒ the
 * request may have reached SES ⇒ an error after that is an unknown outcome (a reset on a reused keep-alive socket
 * included — SES might have read the request). Handlers other than Node's http/https (fetch, http2, custom) publish
 * nothing: then no stage is given past the handler and classifyError falls back on error codes alone.
 * The channel is subscribed only while calls are in flight, so an idle process carries no hook.
 */

export interface CallTrace {
  /** The command's middleware stack ran (false when a test double or wrapper bypassed `client.send`'s stack). */
  stackRan: boolean;
  /** The innermost middleware was reached: the HTTP handler was called. */
  reachedHandler: boolean;
  /** The handler created a Node http(s) request for this call. */
  sawRequest: boolean;
  /** That request got a connected socket. */
  connected: boolean;
}

export interface SendTracker {
  /** Runs `fn` (the handler call) with `trace` as the current call. */
  run<T>(trace: CallTrace, fn: () => Promise<T>): Promise<T>;
}

const CHANNEL = 'http.client.request.start';

export function newTrace(): CallTrace {
  return { stackRan: false, reachedHandler: false, sawRequest: false, connected: false };
}

/** The stage to attach to an error thrown by a traced call; undefined when the trace cannot tell. */
export function stageOf(trace: CallTrace): SendStage | undefined {
  if (!trace.stackRan) return undefined;
  if (!trace.reachedHandler) return 'before-handler';
  if (!trace.sawRequest) return undefined;
  return trace.connected ? 'connected' : 'not-connected';
}

function watchSocket(trace: CallTrace, socket: Socket, reused: boolean): void {
  const tls = (socket as Socket & { encrypted?: boolean }).encrypted === true;
  if (reused || !socket.connecting) {
    trace.connected = true;
    return;
  }
  socket.once(tls ? 'secureConnect' : 'connect', () => {
    trace.connected = true;
  });
}

export function sendTracker(): SendTracker {
  const storage = new AsyncLocalStorage<CallTrace>();
  let active = 0;
  const onStart = (message: unknown) => {
    const trace = storage.getStore();
    if (!trace || trace.sawRequest) return;
    const request = (message as { request?: ClientRequest }).request;
    if (!request) return;
    trace.sawRequest = true;
    if (request.socket) watchSocket(trace, request.socket, request.reusedSocket);
    else request.once('socket', (socket) => watchSocket(trace, socket, request.reusedSocket));
  };

  return {
    async run(trace, fn) {
      if (active++ === 0) diagnostics.subscribe(CHANNEL, onStart);
      try {
        return await storage.run(trace, fn);
      } finally {
        if (--active === 0) diagnostics.unsubscribe(CHANNEL, onStart);
      }
    },
  };
}

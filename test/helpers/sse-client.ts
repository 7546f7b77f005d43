// A minimal SSE client over node:http for the suites: reads events until `done` (or a stop condition), or stops early.
import http, { type IncomingMessage } from 'node:http';

export interface ReadEvent {
  event: string;
  id: string;
  data: Record<string, unknown> & { counts: Record<string, number>; status: string };
}

export interface SseRead {
  status: number;
  headers: IncomingMessage['headers'];
  events: ReadEvent[];
  /** Comment lines seen (heartbeats). */
  comments: number;
  /** The raw body when the answer was not a stream (an error envelope). */
  body: string;
  /** Whether the server ended the stream (rather than the client stopping). */
  ended: boolean;
}

/** GETs `url` and collects events until the server ends the stream or `stop(events)` says enough (then disconnects). */
export function readSse(
  url: string,
  headers: Record<string, string>,
  stop: (events: ReadEvent[]) => boolean = () => false,
): Promise<SseRead> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const out: SseRead = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        events: [],
        comments: 0,
        body: '',
        ended: false,
      };
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        out.body += chunk;
        if (!String(res.headers['content-type']).startsWith('text/event-stream')) return;
        buffer += chunk;
        let cut = buffer.indexOf('\n\n');
        while (cut >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          cut = buffer.indexOf('\n\n');
          if (block.startsWith(':')) {
            out.comments += 1;
            continue;
          }
          const fields: Record<string, string> = {};
          for (const line of block.split('\n')) {
            const at = line.indexOf(': ');
            fields[line.slice(0, at)] = line.slice(at + 2);
          }
          out.events.push({ event: fields.event, id: fields.id, data: JSON.parse(fields.data) });
          if (stop(out.events)) {
            req.destroy();
            resolve(out);
            return;
          }
        }
      });
      res.on('end', () => {
        out.ended = true;
        resolve(out);
      });
      res.on('error', () => resolve(out));
    });
    req.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
  });
}

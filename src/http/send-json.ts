// sendJson(): writes a POST answer without res.json(), whose ETag (a hash of every body) no one can use here.
import type { Response } from 'express';

/**
 * Writes `body` as `application/json; charset=utf-8` with `status`: what `res.status(status).json(body)` writes for a
 * POST, minus the ETag. Answers to POST are never cached or revalidated, and hashing each one costs a few percent of
 * the accept path.
 */
export function sendJson(res: Response, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

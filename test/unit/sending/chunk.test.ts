// Unit tests: recipient counting, chunk tasks and SES call splitting.
import { describe, expect, it } from 'vitest';
import { chunkTasks, splitCalls } from '../../../src/sending/chunk.js';
import { countRecipients } from '../../../src/sending/recipients.js';
import type { BulkEmailEntry, IndexedEntry } from '../../../src/types.js';

const entry = (to: number, cc = 0, bcc = 0): BulkEmailEntry => ({
  Destination: {
    ToAddresses: Array.from({ length: to }, (_, i) => `to${i}@x.test`),
    ...(cc ? { CcAddresses: Array.from({ length: cc }, (_, i) => `cc${i}@x.test`) } : {}),
    ...(bcc ? { BccAddresses: Array.from({ length: bcc }, (_, i) => `bcc${i}@x.test`) } : {}),
  },
});
const indexed = (sizes: number[]): IndexedEntry[] => sizes.map((n, index) => ({ index, entry: entry(n) }));
const shape = (calls: IndexedEntry[][]) => calls.map((c) => c.map((e) => e.index));

describe('countRecipients', () => {
  it('adds To, Cc and Bcc', () => {
    expect(countRecipients(entry(2, 3, 4))).toBe(9);
    expect(countRecipients(entry(0, 0, 1))).toBe(1);
    expect(countRecipients({ Destination: {} })).toBe(0);
  });
});

describe('chunkTasks', () => {
  it('cuts into tasks of 50 keeping each entry’s index', () => {
    const entries = Array.from({ length: 120 }, () => entry(1));
    const tasks = chunkTasks('job-1', entries);
    expect(tasks.map((t) => [t.jobId, t.chunk, t.entries.length])).toEqual([
      ['job-1', 0, 50],
      ['job-1', 1, 50],
      ['job-1', 2, 20],
    ]);
    expect(tasks[2].entries[0].index).toBe(100);
    expect(tasks[2].entries[0].entry).toBe(entries[100]);
    expect(tasks.flatMap((t) => t.entries.map((e) => e.index))).toEqual(entries.map((_, i) => i));
  });

  it('honours size and startIndex', () => {
    const tasks = chunkTasks('j', [entry(1), entry(1), entry(1)], 2, 10);
    expect(tasks.map((t) => [t.chunk, t.entries.map((e) => e.index)])).toEqual([
      [5, [10, 11]],
      [6, [12]],
    ]);
    expect(chunkTasks('j', [])).toEqual([]);
    expect(() => chunkTasks('j', [], 0)).toThrow(TypeError);
  });
});

describe('splitCalls', () => {
  it('packs entries in order up to maxRecipients per call', () => {
    expect(shape(splitCalls(indexed([1, 1, 1, 1, 1]), 2))).toEqual([[0, 1], [2, 3], [4]]);
    expect(shape(splitCalls(indexed([2, 3, 1, 4]), 5))).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });

  it('puts an entry larger than maxRecipients alone', () => {
    expect(shape(splitCalls(indexed([1, 9, 1, 1]), 3))).toEqual([[0], [1], [2, 3]]);
    expect(shape(splitCalls(indexed([9]), 3))).toEqual([[0]]);
  });

  it('never puts more than 50 entries in one call', () => {
    const calls = splitCalls(indexed(Array.from({ length: 130 }, () => 1)), 1000);
    expect(calls.map((c) => c.length)).toEqual([50, 50, 30]);
  });

  it('treats maxRecipients below 1 as 1 and keeps every entry exactly once', () => {
    expect(shape(splitCalls(indexed([1, 1]), 0))).toEqual([[0], [1]]);
    const sizes = Array.from({ length: 200 }, (_, i) => 1 + ((i * 7) % 11));
    const calls = splitCalls(indexed(sizes), 17);
    expect(calls.flat().map((e) => e.index)).toEqual(sizes.map((_, i) => i));
    for (const call of calls) {
      const n = call.reduce((s, e) => s + countRecipients(e.entry), 0);
      expect(call.length === 1 || n <= 17).toBe(true);
    }
  });

  it('keeps extra fields of the items (attempts)', () => {
    const calls = splitCalls([{ index: 3, entry: entry(1), attempts: 2 }], 5);
    expect(calls[0][0].attempts).toBe(2);
  });
});

// Unit tests: recipient counting and the one task cutter (≤ 50 entries, ≤ maxRecipientsPerCall recipients).
import { describe, expect, it } from 'vitest';
import { cutTasks, recipientsOf } from '../../../src/sending/chunk.js';
import { countRecipients } from '../../../src/sending/recipients.js';
import type { BulkEmailEntry, IndexedEntry } from '../../../src/types.js';

const entry = (to: number, cc = 0, bcc = 0): BulkEmailEntry => ({
  Destination: {
    ToAddresses: Array.from({ length: to }, (_, i) => `to${i}@x.test`),
    ...(cc ? { CcAddresses: Array.from({ length: cc }, (_, i) => `cc${i}@x.test`) } : {}),
    ...(bcc ? { BccAddresses: Array.from({ length: bcc }, (_, i) => `bcc${i}@x.test`) } : {}),
  },
});
const indexed = (sizes: number[], from = 0): IndexedEntry[] =>
  sizes.map((n, i) => ({ index: from + i, entry: entry(n) }));
const shape = (entries: IndexedEntry[], max?: number) =>
  cutTasks('j', entries, max).map((t) => t.entries.map((e) => e.index));

describe('countRecipients / recipientsOf', () => {
  it('adds To, Cc and Bcc', () => {
    expect(countRecipients(entry(2, 3, 4))).toBe(9);
    expect(countRecipients(entry(0, 0, 1))).toBe(1);
    expect(countRecipients({ Destination: {} })).toBe(0);
    expect(recipientsOf(indexed([2, 3]))).toBe(5);
  });
});

describe('cutTasks', () => {
  it('cuts N single-recipient entries into ⌈N/50⌉ full tasks, numbered from 0, keeping each index', () => {
    const entries = indexed(Array(120).fill(1));
    const tasks = cutTasks('job-1', entries);
    expect(tasks.map((t) => [t.jobId, t.chunk, t.entries.length])).toEqual([
      ['job-1', 0, 50],
      ['job-1', 1, 50],
      ['job-1', 2, 20],
    ]);
    expect(tasks[2].entries[0]).toBe(entries[100]);
    expect(tasks.flatMap((t) => t.entries.map((e) => e.index))).toEqual(entries.map((e) => e.index));
  });

  it('keeps the original indexes of a sparse list (suppressed entries left out)', () => {
    const entries = [0, 3, 4, 9].map((index) => ({ index, entry: entry(1) }));
    expect(shape(entries)).toEqual([[0, 3, 4, 9]]);
  });

  const table: Array<[string, number[], number | undefined, number[][]]> = [
    [
      'no cap: 50 entries of 50 recipients in one task',
      Array(50).fill(50),
      undefined,
      [Array.from({ length: 50 }, (_, i) => i)],
    ],
    [
      'cap 10: calls of at most 10 recipients',
      [4, 4, 4, 4, 2],
      10,
      [
        [0, 1],
        [2, 3, 4],
      ],
    ],
    ['an entry over the cap goes alone', [3, 12, 3], 10, [[0], [1], [2]]],
    ['cap 1: one entry per call', [1, 1, 1], 1, [[0], [1], [2]]],
    ['no entries: no tasks', [], undefined, []],
  ];
  for (const [name, sizes, max, expected] of table) {
    it(name, () => {
      expect(shape(indexed(sizes), max)).toEqual(expected);
    });
  }

  it('never puts more than 50 entries in a task whatever the cap', () => {
    const tasks = cutTasks('j', indexed(Array(101).fill(1)), 1000);
    expect(tasks.map((t) => t.entries.length)).toEqual([50, 50, 1]);
  });
});

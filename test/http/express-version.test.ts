// Proves which Express major the HTTP suites run on in each project (the express4 project aliases `express`).
import express from 'express';
import { describe, expect, it } from 'vitest';

describe('Express under test', () => {
  it(`is Express ${process.env.EXPRESS_MAJOR}`, () => {
    // Express 5 removed app.del; Express 4 still has it.
    const major = typeof (express.application as unknown as Record<string, unknown>).del === 'function' ? '4' : '5';
    expect(major).toBe(process.env.EXPRESS_MAJOR);
  });
});

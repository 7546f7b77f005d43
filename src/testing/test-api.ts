// The test functions a contract suite runs on: Vitest's (or Jest's) describe, it, expect and hooks, passed in.

/** The matchers the suites use; Vitest's and Jest's `expect(…)` both have them. */
export interface Matchers {
  toBe(expected: unknown): unknown;
  toEqual(expected: unknown): unknown;
  toMatchObject(expected: object): unknown;
  toBeNull(): unknown;
  toBeUndefined(): unknown;
  toBeDefined(): unknown;
  toHaveLength(length: number): unknown;
  toBeLessThan(n: number): unknown;
  toBeLessThanOrEqual(n: number): unknown;
  toBeGreaterThan(n: number): unknown;
  toBeGreaterThanOrEqual(n: number): unknown;
  not: Matchers;
  resolves: AsyncMatchers;
  rejects: AsyncMatchers;
}

export type AsyncMatchers = {
  [K in Exclude<keyof Matchers, 'not' | 'resolves' | 'rejects'>]: (
    ...args: Parameters<Matchers[K]>
  ) => PromiseLike<unknown>;
};

export interface Expect {
  (actual: unknown, message?: string): Matchers;
  any(type: unknown): unknown;
}

/**
 * What a contract suite needs from the test runner. With Vitest, pass its module namespace (`import * as vitest`);
 * with Jest, `{ describe, it, expect, beforeEach, afterEach }` of `@jest/globals`. The package does not
 * import a test runner itself, so it ships none as a dependency.
 */
export interface TestApi {
  describe(name: string, fn: () => void): unknown;
  it(name: string, fn: () => Promise<unknown> | unknown, timeout?: number): unknown;
  expect: Expect;
  beforeEach(fn: () => Promise<unknown> | unknown): unknown;
  afterEach(fn: () => Promise<unknown> | unknown): unknown;
}

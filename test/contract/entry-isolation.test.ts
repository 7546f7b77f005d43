// The main entry never reaches ioredis (an optional peer): only src/redis.ts and what it imports may.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Every bare package a source file reaches through static or dynamic imports of sibling files. */
function packagesReached(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    // `load('ioredis')`: stores/ioredis-peer.ts requires it at run time so that a missing peer gets a clear message.
    for (const m of text.matchAll(/(?:from|import|load)\s*\(?\s*['"]([^'"]+)['"]/g)) {
      const spec = m[1];
      // Text imports (`./assets/page.css?raw`) are files, not modules: nothing to follow.
      if (spec.endsWith('?raw')) continue;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (!/^import\s+type\b/.test(m[0]))
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
    }
  };
  visit(resolve(src, entry));
  return packages;
}

describe('entry points', () => {
  it('index.ts reaches neither ioredis nor bullmq', () => {
    const reached = packagesReached('index.ts');
    expect(reached.has('bullmq')).toBe(false);
    expect(reached.has('ioredis')).toBe(false);
  });

  it('index.ts loads @opentelemetry/api only on demand (require at build time, an optional peer)', () => {
    const text = readFileSync(resolve(src, 'telemetry/telemetry.ts'), 'utf8');
    expect(text).toMatch(/load\('@opentelemetry\/api'\)/);
    expect(text).not.toMatch(/^import (?!type)[^;]*'@opentelemetry\/api'/m);
  });

  it('testing/index.ts ships no test runner: the suites take its functions', () => {
    const reached = packagesReached('testing/index.ts');
    expect([...reached].filter((p) => /vitest|jest|mocha/.test(p))).toEqual([]);
  });

  it('redis.ts is where it comes from', () => {
    const reached = packagesReached('redis.ts');
    expect(reached.has('ioredis')).toBe(true);
  });
});

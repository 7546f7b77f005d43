// tsc on test/types/principal-interface.ts: an app's `interface User { id: string; plan: Plan }` satisfies Principal.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

it('an interface without an index signature is a Principal (tsc, strict)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ebe-types-'));
  try {
    const config = join(dir, 'tsconfig.json');
    writeFileSync(
      config,
      JSON.stringify({
        extends: join(ROOT, 'tsconfig.json'),
        compilerOptions: { noEmit: true, skipLibCheck: true, typeRoots: [join(ROOT, 'node_modules/@types')] },
        include: [],
        files: [join(ROOT, 'test/types/principal-interface.ts')],
      }),
    );
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', config], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(tsc.stdout.split('\n').filter((line) => line.includes('error TS'))).toEqual([]);
    expect(tsc.status).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

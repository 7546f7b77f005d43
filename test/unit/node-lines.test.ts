// The supported Node.js lines are one fact: .ci/node-versions, engines, tsup's target and the tools' own engines agree.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(join(ROOT, 'package.json'));
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
/** Tools that run on every line (the suites) or on the machine's own Node (npm ci, tsc, lint, build). */
const TOOLS = ['vitest', 'tsx', 'tsup', '@biomejs/biome', 'typescript', 'openapi-typescript'];

const pinned = read('.ci/node-versions')
  .split('\n')
  .filter((l) => /^\d/.test(l))
  .map((l) => {
    const [line, version, integrity] = l.split(/\s+/);
    return { line: Number(line), version, integrity };
  });
const oldest = Math.min(...pinned.map((p) => p.line));

describe('supported Node.js lines', () => {
  it('are pinned to exact versions of each LTS line, with the tarball integrity', () => {
    expect(pinned.map((p) => p.line)).toEqual([22, 24, 26]);
    for (const { line, version, integrity } of pinned) {
      expect(semver.valid(version), version).toBe(version);
      expect(semver.major(version)).toBe(line);
      expect(integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
    }
  });

  it('start at the oldest pinned line in engines and in the build target', () => {
    const pkg = JSON.parse(read('package.json'));
    expect(pkg.engines.node).toBe(`>=${oldest}`);
    expect(read('tsup.config.ts')).toMatch(new RegExp(`target: 'node${oldest}'`));
  });

  it("are all within every tool's engines, and so is the Node that runs the tools", () => {
    const nodes = [...pinned.map((p) => p.version), process.env.TOOLS_NODE_VERSION ?? process.version];
    for (const tool of TOOLS) {
      const range = require(`${tool}/package.json`).engines?.node ?? '*';
      for (const node of nodes) expect(semver.satisfies(node, range), `${tool} (${range}) on Node ${node}`).toBe(true);
    }
  });

  it('run this suite on the Node it was started for (each line with npm run test:lines)', () => {
    const expected = process.env.EXPECTED_NODE_LINE;
    if (expected === undefined) {
      // npm test: the Node that runs test/run.mjs (a plain `vitest` run has nothing else to compare with).
      expect(process.version).toBe(process.env.TOOLS_NODE_VERSION ?? process.version);
      return;
    }
    expect(process.versions.node.split('.')[0]).toBe(expected);
    expect(process.version).toBe(`v${pinned.find((p) => String(p.line) === expected)?.version}`);
  });
});

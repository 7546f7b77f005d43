// The exported answer types equal the OpenAPI document: types generated from it (openapi-typescript) are compared by tsc.
//
// Each schema in components.schemas must have an exported type of the same name in src/wire-types.ts, and each 2xx
// answer of each operation must be `SuccessEnvelope<OperationAnswers[operationId][status]>`. "Equal" is strict:
// the same properties, the same optionality, the same unions (an optional field on one side only fails too).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { buildOpenApi } from '../../src/validation/openapi.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Inside the repo (so that package.json makes it ESM and node_modules resolve), in a folder git ignores. */
const DIR = join(ROOT, 'node_modules/.cache/express-bulk-email-wire-types', String(process.pid));
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** Which exports of src/types.ts the root does not export under their own name, and why. */
const NOT_AT_ROOT: Record<string, string> = {
  JobRecord: 'exported as StoredJob',
  EntryResult: 'exported as StoredResult',
};

const HELPERS = `
/** Resolves references, flattens intersections and keeps optionality, so that equal shapes compare equal. */
type Norm<T> = T extends readonly (infer U)[]
  ? Norm<U>[]
  : T extends object
    ? { [K in keyof T]: Norm<T[K]> }
    : T;
/** Strict equality: mutual assignability would let an optional property on one side only slip through. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
type Expect<T extends true> = T;
declare function same<A, B>(a: A, b: B): void;
`;

/** The check file: one Equal per schema and per 2xx answer, and an assignment each way so that tsc says why. */
function checkSource(doc: ReturnType<typeof buildOpenApi>): string {
  const lines = [
    "import type { components, operations } from './generated.js';",
    `import type * as Wire from '${join(ROOT, 'src/wire-types.js')}';`,
    `import type * as Root from '${join(ROOT, 'src/index.js')}';`,
    HELPERS,
  ];
  const compare = (name: string, generated: string, wire: string) => {
    lines.push(
      `declare const gen_${name}: Norm<${generated}>;`,
      `declare const wire_${name}: Norm<${wire}>;`,
      `export const to_wire_${name}: Norm<${wire}> = gen_${name};`,
      `export const to_doc_${name}: Norm<${generated}> = wire_${name};`,
      `export type Equal_${name} = Expect<Equal<Norm<${generated}>, Norm<${wire}>>>;`,
    );
  };
  for (const name of Object.keys(doc.components.schemas)) {
    if (name === 'SendBulkEmailRequest') continue; // the request: its TypeScript type is the SDK-shaped input
    compare(name, `components['schemas']['${name}']`, `Wire.${name}`);
    lines.push(`export type Root_${name} = Root.${name};`); // exported from the package root too
  }
  for (const item of Object.values(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      const { operationId, responses } = op as {
        operationId: string;
        responses: Record<string, { content: Record<string, { schema: { properties?: object } }> }>;
      };
      for (const status of Object.keys(responses).filter((s) => s.startsWith('2'))) {
        const json = responses[status].content['application/json'];
        if (!json?.schema.properties || !('success' in json.schema.properties)) continue; // not an envelope
        compare(
          `${operationId}_${status}`,
          `operations['${operationId}']['responses'][${status}]['content']['application/json']`,
          `Wire.SuccessEnvelope<Wire.OperationAnswers['${operationId}'][${status}]>`,
        );
      }
    }
  }
  lines.push(
    '// The camelCase store records are not answers, and not exported from the root under their own names.',
    '// @ts-expect-error',
    'export type StoredIsNoAnswer = Root.Envelope<Root.StoredJob>;',
    '// @ts-expect-error',
    'export type NoResultEnvelope = Root.Envelope<Root.StoredResult>;',
  );
  for (const name of Object.keys(NOT_AT_ROOT))
    lines.push('// @ts-expect-error', `export type No_${name} = Root.${name};`);
  // Every other export of src/types.ts is exported from the root (a new public type cannot be forgotten there).
  const typesSource = readFileSync(join(ROOT, 'src/types.ts'), 'utf8');
  for (const [, name] of typesSource.matchAll(/^export (?:interface|type) (\w+)/gm)) {
    if (!(name in NOT_AT_ROOT)) lines.push(`export type Public_${name} = Root.${name};`);
  }
  return lines.join('\n');
}

function typeErrors(file: string): string[] {
  const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const program = ts.createProgram([file], { ...options, noEmit: true });
  const source = program.getSourceFile(file);
  // Only this file's diagnostics: tsc --noEmit checks the rest, and checking all of it here would triple the time.
  return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (!d.file || d.start === undefined) return text;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${file}:${line + 1}: ${d.file.text.split('\n')[line].trim()}\n  ${text}`;
  });
}

describe('exported answer types', () => {
  afterAll(() => rmSync(DIR, { recursive: true, force: true }));

  it('equal the OpenAPI document, schema by schema and answer by answer', async () => {
    const doc = buildOpenApi();
    mkdirSync(DIR, { recursive: true });
    writeFileSync(join(DIR, 'generated.ts'), astToString(await openapiTS(doc as never, { silent: true })));
    const check = join(DIR, 'check.ts');
    const source = checkSource(doc);
    writeFileSync(check, source);
    expect(source).toContain('Equal_JobView');
    expect(source).toContain('Equal_getResults_200');
    expect(source).toContain('Equal_createJob_202');
    expect(source).not.toContain('getOpenApi'); // the document itself is no envelope
    const errors = typeErrors(check);
    expect(errors, errors.join('\n\n')).toEqual([]);
  });
});

// templateVariables(): syntax errors in the template's own terms, Handlebars 4 as the judge of syntax, and the limits on work.
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TEMPLATE_LIMITS, templateVariables } from '../../src/render/template-variables.js';

const requireHere = createRequire(import.meta.url);
/** The emulator's Handlebars 4.7: the parser SES-compatible rendering is judged by. */
const Handlebars = createRequire(requireHere.resolve('aws-ses-v2-local'))('handlebars') as {
  parseWithoutProcessing(src: string): unknown;
};

function handlebarsParses(source: string): boolean {
  try {
    Handlebars.parseWithoutProcessing(source);
    return true;
  } catch {
    return false;
  }
}

const stored = (Html: string) => templateVariables({ Html }, { inline: false });
const syntaxErrors = (source: string) =>
  stored(source).unsupported.filter((u) => u.reason.startsWith('template syntax error'));

describe('syntax errors', () => {
  it.each([
    ['{{#if a}}\nnever closed', 'at line 1, column 1: {{#if a}} is never closed', '{{#if a}}'],
    ['ok\n{{/if}}', 'at line 2, column 1: {{/if}} closes nothing', '{{/if}}'],
    ['{{#if a}}\n  x{{/each}}', 'at line 1, column 1: {{/each}} does not match {{#if a}}', '{{#if a}}'],
    ['{{else}}', '{{else}} outside a block', '{{else}}'],
    ['{{#if a}}1{{else}}2{{else}}3{{/if}}', '{{else}} is a second {{else}} in one block', '{{else}}'],
    ['Hi {{name', 'unterminated {{name: no closing }}', 'name'],
    ['{{#if a {{/if}}', 'unterminated {{#if a {{/if}}: a new tag starts before its }}', '{{/if}}'],
    ['{{!-- never closed', 'unterminated {{!-- comment', ''],
    ['{{{{raw}}}} never closed', '{{{{raw}}}} is never closed', ''],
    ['{{a b=}}', 'at line 1, column 7: unexpected "}}"', '}}'],
    ['{{a/../b}}', 'invalid path "a/.."', 'a/../b}}'],
    ['{{#*inline "p"}}x{{else}}y{{/inline}}', 'cannot have an {{else}}', ''],
    ['{{[a}}', 'unterminated [ segment', ''],
  ])('%j', (source, reason, construct) => {
    expect(handlebarsParses(source)).toBe(false);
    const [problem, ...others] = syntaxErrors(source);
    expect(others).toEqual([]);
    expect(problem.reason).toContain(reason);
    expect(problem.construct).toContain(construct);
  });

  it('a part with a syntax error adds no variables, the other parts still do', () => {
    const out = templateVariables({ Subject: 'Hi {{name}}', Html: '{{a}} {{#if b}}' }, { inline: false });
    expect(out.variables.map((v) => v.name)).toEqual(['name']);
    expect(out.unsupported).toEqual([expect.objectContaining({ part: 'Html', construct: '{{#if b}}' })]);
  });
});

describe('Handlebars 4 syntax only', () => {
  // @handlebars/parser 2.2 parses these; Handlebars 4 (SES, the emulator) refuses them
  it.each([
    ['{{a=1}}', 'hash literals'],
    ['{{x (a=1)}}', 'hash literals'],
    ['{{(helper) arg}}', 'a subexpression called as a helper'],
    ['{{#each (a) as |x|}}{{x}}{{/each}}{{((a))}}', 'a subexpression called as a helper'],
    ['{{(lookup a b).c}}', 'a path on a subexpression'],
    ['{{> (dynamic).name}}', 'a path on a subexpression'],
    ['{{a.#b}}', '".#" path segments'],
    ['{{*x=1}}', 'hash literals'], // a decorator: never walked, still read
    ['{{#*inline "unused"}}{{a=1}}{{/inline}}', 'hash literals'], // a partial never used
  ])('%s', (source, what) => {
    expect(handlebarsParses(source)).toBe(false);
    expect(syntaxErrors(source).map((u) => u.reason)).toEqual([expect.stringContaining(what)]);
  });

  const fragments = [
    ...['{{', '}}', '{{{', '}}}', '{{#', '{{/', '{{^', '{{else', '{{else}}', '{{>', '{{#>', '{{&', '{{*', '{{#*'],
    ...['{{!', '{{!--', '--}}', '{{{{', '}}}}', '{{{{/', '~', '\\', '\n', ' ', 'a', 'b.c', 'if', 'each', 'inline'],
    ...['(', ')', '=', '"s"', "'t'", '.', '/', '..', '../', '@', '@root', '#', '[x y]', '[', ']', 'this', '1'],
    ...['true', 'null', 'as |x|', '|', 'x=', '.#'],
  ];
  const soup = fc.array(fc.constantFrom(...fragments), { minLength: 1, maxLength: 14 }).map((parts) => parts.join(''));

  it('reports a syntax error exactly when Handlebars 4 cannot parse the template', () => {
    fc.assert(
      fc.property(soup, (source) => {
        const ours = source.includes('{{') ? syntaxErrors(source) : [];
        expect(ours.length === 0, `${JSON.stringify(source)}: ${ours.map((u) => u.reason).join(' | ')}`).toBe(
          handlebarsParses(source),
        );
      }),
      { numRuns: 3000 },
    );
  });
});

describe('limits', () => {
  it('reads at most maxChars of template parts with tags (tag-free parts are not read)', () => {
    const big = `{{a}}${'x'.repeat(TEMPLATE_LIMITS.maxChars)}`;
    expect(templateVariables({ Text: big }, { inline: true }).tooComplex).toEqual({
      construct: '',
      part: 'Text',
      reason: 'Subject, Text and Html together are over 1,048,576 characters',
    });
    const plain = 'x'.repeat(2 * TEMPLATE_LIMITS.maxChars);
    expect(templateVariables({ Text: plain, Subject: 'Hi {{name}}' }, { inline: true })).toEqual({
      variables: [{ name: 'name', path: ['name'], required: true, parts: ['Subject'] }],
      unsupported: [],
    });
  });

  it('counts tokens over all parts together', () => {
    const tags = (n: number) => '{{a}}'.repeat(n); // 3 tokens each
    const third = Math.floor(TEMPLATE_LIMITS.maxTokens / 9);
    const fits = templateVariables({ Subject: tags(third), Text: tags(third), Html: tags(third) }, { inline: true });
    expect(fits.tooComplex).toBeUndefined();
    const over = templateVariables(
      { Subject: tags(third), Text: tags(third), Html: tags(third + 10) },
      { inline: true },
    );
    const limit = TEMPLATE_LIMITS.maxTokens.toLocaleString('en-US');
    expect(over.tooComplex).toMatchObject({ part: 'Html', reason: expect.stringContaining(`more than ${limit}`) });
  });

  it.each([
    ['subexpressions', `{{a ${'('.repeat(150)}b${')'.repeat(150)}}}`],
    ['else-if links', `{{#if a}}${'{{else if b}}'.repeat(150)}{{/if}}`],
    ['raw and plain blocks', `${'{{#each a}}'.repeat(101)}${'{{/each}}'.repeat(101)}`],
  ])('nesting: %s', (_label, source) => {
    expect(stored(source).tooComplex?.reason).toMatch(/nested more than 100 deep/);
  });

  it('nesting through partials: a chain of 150 partials', () => {
    let source = '{{#*inline "p0"}}{{leaf}}{{/inline}}';
    for (let i = 1; i < 150; i++) source += `{{#*inline "p${i}"}}{{> p${i - 1}}}{{/inline}}`;
    const chain = stored(`${source}{{> p149}}`);
    expect(chain.tooComplex).toMatchObject({
      construct: '{{> p49}}',
      reason: 'blocks, subexpressions and partials nested more than 100 deep',
    });
    // 90 deep is fine
    expect(stored(`${source}{{> p90}}`)).toEqual({
      variables: [{ name: 'leaf', path: ['leaf'], required: true, parts: ['Html'] }],
      unsupported: [],
    });
  });

  it('the issue case (a partial called 6,000 times, called 5,000 times) is refused by the token count', () => {
    const source = `{{#*inline "B"}}{{x}}{{/inline}}{{#*inline "A"}}{{#if c}}${'{{>B}}'.repeat(6000)}{{/if}}{{/inline}}${'{{>A}}'.repeat(5000)}`;
    expect(stored(source).tooComplex?.reason).toContain('more than 4,000 Handlebars tokens');
    // and the same shape under the token limit is walked once per scope: the walk does not multiply
    const smaller = `{{#*inline "B"}}{{x}}{{/inline}}{{#*inline "A"}}{{#if c}}${'{{>B}}'.repeat(600)}{{/if}}{{/inline}}${'{{>A}}'.repeat(600)}`;
    expect(stored(smaller)).toEqual({
      variables: [
        { name: 'c', path: ['c'], required: false, parts: ['Html'] },
        { name: 'x', path: ['x'], required: false, parts: ['Html'] },
      ],
      unsupported: [],
    });
  });

  it('every walked node is charged, inside expanded partials too', () => {
    // each call hides another name, so each is a new scope and the 300-node partial is walked again
    const body = Array.from({ length: 300 }, (_, i) => `{{v${i}}}`).join('');
    const calls = Array.from({ length: 300 }, (_, i) => `{{> B k${i}=1}}`).join('');
    const out = stored(`{{#*inline "B"}}${body}{{/inline}}${calls}`);
    expect(out.tooComplex?.reason).toBe('partials expand to more than 20,000 nodes to check');
  });

  it('lists at most 100 problems and counts the rest', () => {
    const source = Array.from({ length: 300 }, (_, i) => `{{helper${i} x}}`).join('');
    const out = stored(source);
    expect(out.unsupported).toHaveLength(100);
    expect(out.unlisted).toBe(200);
  });

  it('a 20 MB Text of unique helper tags is refused at once', () => {
    const text = Array.from({ length: 2_000_000 }, (_, i) => `{{a${i} y}}`).join('');
    const started = process.cpuUsage();
    const out = templateVariables({ Text: text }, { inline: true });
    const used = process.cpuUsage(started);
    expect(out.tooComplex?.reason).toContain('over 1,048,576 characters');
    expect(out.unsupported).toEqual([]);
    // printed, not asserted: CPU time on a shared machine is no test
    console.log(`20 MB Text: ${((used.user + used.system) / 1000).toFixed(1)} ms CPU`);
  });
});

describe('cost at and past the limits (printed, not asserted)', () => {
  const chain = (length: number, n: number) => {
    let text = '{{#*inline "p0"}}{{leaf}}{{/inline}}';
    for (let i = 1; i < length; i++)
      text += `{{#*inline "p${i}_${n}"}}{{> p${i - 1}${i > 1 ? `_${n}` : ''}}}{{/inline}}`;
    return `${text}{{> p${length - 1}_${n}}}`;
  };
  const vars = (count: number, n: number) => Array.from({ length: count }, (_, i) => `{{v${i}_${n}}}`).join('');
  /** Label, a fresh text per run (no cache can help), and whether the check refuses it as too complex. */
  const shapes: [string, (n: number) => string, boolean][] = [
    ['a usual inline template (3 substitutions)', (n) => `Hi {{name}}, your code is {{code}} ${n}. {{footer}}`, false],
    [
      "refused: the issue's 66 KB of nested partials",
      (n) => `${n}{{#*inline "A"}}{{#if c}}${'{{>B}}'.repeat(6000)}{{/if}}{{/inline}}${'{{>A}}'.repeat(5000)}`,
      true,
    ],
    ['refused: a chain of 4,900 partials', (n) => chain(4900, n), true],
    ['refused: 20 MB of helper tags', (n) => `${n}${'{{a y}}'.repeat(2_900_000)}`, true],
    ['under the limits: 1,300 substitutions', (n) => vars(1300, n), false],
    [
      'under the limits: 1,000 substitutions 99 blocks deep',
      (n) => `${'{{#if a}}'.repeat(99)}${vars(1000, n)}${'{{/if}}'.repeat(99)}`,
      false,
    ],
    ['under the token limit: a chain of 360 partials (refused at nesting 100)', (n) => chain(360, n), true],
  ];
  it.each(shapes)('%s', (label, make, refused) => {
    let best = Number.POSITIVE_INFINITY;
    for (let n = 0; n < 5; n++) {
      const text = make(n);
      const started = process.cpuUsage();
      const out = templateVariables({ Subject: 'Hi {{name}}', Text: text }, { inline: true });
      const used = process.cpuUsage(started);
      best = Math.min(best, (used.user + used.system) / 1000);
      expect(out.tooComplex !== undefined).toBe(refused);
    }
    console.log(`templateVariables, ${label}: ${best.toFixed(1)} ms CPU (best of 5)`);
  });
});

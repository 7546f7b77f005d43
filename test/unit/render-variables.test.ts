// templateVariables(): the variable table over many template shapes, inline-unsupported constructs, and a cross-check against Handlebars.
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { templateVariables } from '../../src/render/template-variables.js';

/** `name!` = required, `name?` = used but not required; in first-use order. */
function vars(source: string, part: 'Subject' | 'Text' | 'Html' = 'Html'): string {
  return templateVariables({ [part]: source }, { inline: false })
    .variables.map((v) => `${v.name}${v.required ? '!' : '?'}`)
    .join(' ');
}

describe('templateVariables: variables of stored templates', () => {
  it.each([
    ['plain text, no tags', 'Hello there', ''],
    ['simple substitution', 'Hi {{name}}', 'name!'],
    ['whitespace inside the tag', 'Hi {{  name  }}', 'name!'],
    ['triple stash', '{{{html}}}', 'html!'],
    ['triple stash with ~', '{{~{html}~}}', 'html!'],
    ['ampersand (unescaped)', '{{& html}}', 'html!'],
    ['whitespace control ~', 'a {{~name~}} b {{~ other}}', 'name! other!'],
    ['nested path', '{{contact.firstName}} {{contact.address.city}}', 'contact.firstName! contact.address.city!'],
    ['slash path', '{{contact/firstName}}', 'contact.firstName!'],
    ['this. and ./ prefixes', '{{this.a}} {{./b}} {{this/c}}', 'a! b! c!'],
    ['this alone is the whole data', '{{this}} {{.}}', ''],
    ['literal segment', '{{[first name]}} {{list.[0]}}', '[first name]! list.0!'],
    ['@root at top level', '{{@root.company}}', 'company!'],
    ['data variables are not data', '{{@index}} {{@key}} {{@first}}', ''],
    ['identifier characters', '{{user-name}} {{$price}} {{a_b}}', 'user-name! $price! a_b!'],
    ['duplicates counted once', '{{a}} {{a}} {{b}} {{a}}', 'a! b!'],
    ['short comment', '{{! {{hidden}} }}{{shown}}', 'shown!'],
    ['long comment with }}', '{{!-- {{hidden}} }} --}}{{shown}}', 'shown!'],
    ['comment with ~', '{{~!-- x --~}}{{shown}}', 'shown!'],
    ['escaped mustache', '\\{{literal}} {{real}}', 'real!'],
    ['double backslash is not an escape', '\\\\{{real}}', 'real!'],
    [
      '#if: condition and body are conditional',
      '{{#if vip}}{{vipName}}{{else}}{{plainName}}{{/if}}',
      'vip? vipName? plainName?',
    ],
    ['#if with includeZero', '{{#if n includeZero=true}}{{n}}{{/if}}', 'n?'],
    ['#unless', '{{#unless optedOut}}{{offer}}{{/unless}}', 'optedOut? offer?'],
    ['else if chain', '{{#if a}}{{x}}{{else if b}}{{y}}{{else}}{{z}}{{/if}}', 'a? x? b? y? z?'],
    ['{{^}} as else', '{{#if a}}1{{^}}{{z}}{{/if}}', 'a? z?'],
    ['inverted section', '{{^items}}{{none}}{{/items}}', 'items? none?'],
    ['required outside, conditional inside', '{{name}}{{#if x}}{{name}}{{/if}}', 'name! x?'],
    ['conditional first, required later', '{{#if x}}{{name}}{{/if}}{{name}}', 'x? name!'],
    [
      '#each: the list is required, its body is relative',
      '{{#each items}}{{this}} {{this.sku}} {{name}} {{@index}}{{/each}}',
      'items!',
    ],
    ['#each body reaching up', '{{#each items}}{{../currency}} {{@root.shop}}{{/each}}', 'items! currency? shop?'],
    ['#each else runs in the outer context', '{{#each items}}{{x}}{{else}}{{emptyText}}{{/each}}', 'items! emptyText?'],
    ['#each with block params', '{{#each items as |item i|}}{{item.name}}{{i}}{{/each}}', 'items!'],
    ['#each over a nested list', '{{#each order.lines}}{{qty}}{{/each}}', 'order.lines!'],
    ['nested #each with ../../', '{{#each a}}{{#each b}}{{../../top}} {{../mid}}{{/each}}{{/each}}', 'a! top?'],
    ['#with', '{{#with contact}}{{firstName}} {{../greeting}}{{/with}}', 'contact! greeting?'],
    ['#with inside #if is not required', '{{#if c}}{{#with c}}{{n}}{{/with}}{{/if}}', 'c?'],
    ['#each inside #if is not required', '{{#if items}}{{#each items}}{{.}}{{/each}}{{/if}}', 'items?'],
    ['mustache section', '{{#section}}{{inner}}{{/section}}', 'section?'],
    ['lookup helper arguments', '{{lookup prices sku}}', 'prices? sku?'],
    ['subexpression', '{{#if (lookup flags "beta")}}{{betaText}}{{/if}}', 'flags? betaText?'],
    ['log helper', '{{log debugInfo}}{{name}}', 'debugInfo? name!'],
    ['string literal arguments are not variables', '{{lookup map "key"}}', 'map?'],
    [
      'inline partial expanded where used',
      '{{#*inline "greet"}}Hello {{firstName}}{{/inline}}{{> greet}}',
      'firstName!',
    ],
    [
      'inline partial used inside #if',
      '{{#*inline "greet"}}Hello {{firstName}}{{/inline}}{{#if a}}{{> greet}}{{/if}}',
      'a? firstName?',
    ],
    ['inline partial never used', "{{#*inline 'p'}}{{unused}}{{/inline}}{{x}}", 'x!'],
    ['partial with a context', '{{#*inline "card"}}{{title}}{{/inline}}{{> card product}}', 'product!'],
    [
      'partial hash parameters shadow the data',
      '{{#*inline "card"}}{{title}} {{other}}{{/inline}}{{> card title="Hi"}}',
      'other!',
    ],
    ['partial hash parameter values', '{{#*inline "card"}}{{t}}{{/inline}}{{> card t=heading}}', 'heading?'],
    [
      'partial calling a partial',
      '{{#*inline "a"}}{{> b}}{{/inline}}{{#*inline "b"}}{{deep}}{{/inline}}{{> a}}',
      'deep!',
    ],
    ['recursive partial terminates', '{{#*inline "r"}}{{v}}{{#if more}}{{> r}}{{/if}}{{/inline}}{{> r}}', 'v! more?'],
    [
      'partial block with a defined partial',
      '{{#*inline "layout"}}<b>{{title}}</b>{{/inline}}{{#> layout}}{{fallback}}{{/layout}}',
      'title! fallback?',
    ],
    ['partial block with no partial renders its body', '{{#> layout}}{{fallback}}{{/layout}}', 'fallback!'],
    ['string containing }}', '{{lookup map "}}"}} {{after}}', 'map? after!'],
    // Handlebars reads a literal head as a path: {{"a b"}} is {{[a b]}}
    ['literal heads are paths', '{{"first name"}} {{1}}', '[first name]! 1!'],
    ['literal section head', '{{#"list"}}{{x}}{{/"list"}}', 'list?'],
    ['inverted #if: its body is the else branch', '{{^if a}}{{b}}{{/if}}', 'a? b?'],
    ['inverted section with else', '{{^items}}{{none}}{{else}}{{count}}{{/items}}', 'items? none?'],
  ])('%s', (_label, source, expected) => {
    expect(vars(source)).toBe(expected);
  });

  it('merges the three parts and records where each variable is used', () => {
    const { variables } = templateVariables(
      { Subject: 'Hi {{name}}', Text: '{{name}}, code {{code}}', Html: '{{#if vip}}{{code}}{{/if}}' },
      { inline: false },
    );
    expect(variables).toEqual([
      { name: 'name', path: ['name'], required: true, parts: ['Subject', 'Text'] },
      { name: 'code', path: ['code'], required: true, parts: ['Text', 'Html'] },
      { name: 'vip', path: ['vip'], required: false, parts: ['Html'] },
    ]);
  });

  it('gives literal segments their own path segment', () => {
    const [v] = templateVariables({ Text: '{{user.[home town]}}' }, { inline: false }).variables;
    expect(v).toMatchObject({ name: 'user.[home town]', path: ['user', 'home town'] });
  });

  it('ignores missing parts and parts without tags', () => {
    expect(templateVariables({}, { inline: true })).toEqual({ variables: [], unsupported: [] });
    expect(templateVariables({ Subject: 'plain', Text: '' }, { inline: true })).toEqual({
      variables: [],
      unsupported: [],
    });
  });
});

describe('templateVariables: what SES cannot render', () => {
  const unsupported = (source: string, inline: boolean) =>
    templateVariables({ Html: source }, { inline }).unsupported.map((u) => u.construct);

  it.each([
    ['{{#if a}}x{{/if}}', ['{{#if a}}']],
    ['{{#unless a}}x{{/unless}}', ['{{#unless a}}']],
    ['{{#each list}}{{this}}{{/each}}', ['{{#each list}}']],
    ['{{#with obj}}{{x}}{{/with}}', ['{{#with obj}}']],
    ['{{#if a}}1{{else if b}}2{{/if}}', ['{{#if a}}', '{{else if b}}']],
    ['{{^none}}x{{/none}}', ['{{^none}}']],
    ['{{#section}}x{{/section}}', ['{{#section}}']],
    ['{{> header}}', ['{{> header}}']],
    ['{{#*inline "p"}}x{{/inline}}{{> p}}', ['{{#*inline "p"}}', '{{> p}}']],
    ['{{#> layout}}x{{/layout}}', ['{{#> layout}}']],
    ['{{lookup a b}}', ['{{lookup a b}}']],
    ['{{formatDate when}}', ['{{formatDate when}}']],
    ['{{upper name=x}}', ['{{upper name=x}}']],
    ['{{* deco}}', ['{{* deco}}']],
    ['{{{{raw}}}}{{x}}{{{{/raw}}}}', ['{{{{raw}}}}{{x}}{{{{/raw}}}}']],
  ])('inline %s is reported', (source, constructs) => {
    expect(unsupported(source, true)).toEqual(constructs);
  });

  it.each([
    'Hi {{name}}',
    '{{{html}}} {{&raw}} {{~trim~}}',
    '{{contact.firstName}} {{this.x}}',
    '{{! note }}{{!-- long --}}',
    '\\{{not a tag}}',
  ])('inline %s is fine', (source) => {
    expect(unsupported(source, true)).toEqual([]);
  });

  it('names the part and the reason', () => {
    const { unsupported: list } = templateVariables(
      { Subject: 'ok {{a}}', Text: '{{#if b}}x{{/if}}' },
      { inline: true },
    );
    expect(list).toEqual([
      { construct: '{{#if b}}', part: 'Text', reason: expect.stringContaining('simple substitutions only') },
    ]);
  });

  it('shows each construct as written, on any line (CRLF, CR, LF) and with }} inside a string', () => {
    const Html = 'one\r\ntwo\r  {{#if a}}x{{/if}}\n\n  {{> p}} {{#each (lookup a "}}") as |x|}}{{x}}{{/each}}';
    const { unsupported: list } = templateVariables({ Html }, { inline: true });
    expect(list.map((u) => u.construct)).toEqual([
      '{{#if a}}',
      '{{> p}}',
      '{{#each (lookup a "}}") as |x|}}',
      '{{#each (lookup a "}}") as |x|}}',
    ]);
  });

  it('reports each construct once per part', () => {
    const { unsupported: list } = templateVariables(
      { Html: '{{#if a}}1{{/if}}{{#if a}}2{{/if}}', Text: '{{#if a}}3{{/if}}' },
      { inline: true },
    );
    expect(list.map((u) => `${u.part} ${u.construct}`)).toEqual(['Text {{#if a}}', 'Html {{#if a}}']);
  });

  it.each([
    ['{{#if a}}never closed', 'never closed'],
    ['{{/if}}', 'closes nothing'],
    ['{{#if a}}x{{/each}}', 'does not match'],
    ['{{else}}', 'outside a block'],
    ['{{#if a}}1{{else}}2{{else}}3{{/if}}', 'second {{else}}'],
    ['{{name', 'unterminated'],
    ['{{!-- never closed', 'unterminated'],
    ['{{a b=}}', 'syntax error'],
    ['{{formatDate when}}', 'custom helpers'],
    ['{{#bold}}{{x}}{{/bold}}{{#shout x}}y{{/shout}}', 'custom helpers'],
    ['{{> header}}', 'not defined in this part'],
    ['{{> (dynamicName)}}', 'dynamic partials'],
    ['{{* deco}}', 'decorators'],
  ])('stored %s is reported (%s)', (source, reason) => {
    const list = templateVariables({ Html: source }, { inline: false }).unsupported;
    expect(list.length).toBeGreaterThan(0);
    expect(list.map((u) => u.reason).join(' | ')).toContain(reason);
  });

  it.each([
    '{{#if a}}{{b}}{{else}}{{c}}{{/if}}',
    '{{#each xs}}{{this}}{{/each}}{{#with o}}{{p}}{{/with}}',
    '{{#*inline "p"}}{{x}}{{/inline}}{{> p}}{{#> q}}fallback{{/q}}',
    '{{lookup a b}}{{log c}}',
    '{{#section}}{{x}}{{/section}}',
  ])('stored %s has nothing unsupported', (source) => {
    expect(templateVariables({ Html: source }, { inline: false }).unsupported).toEqual([]);
  });

  it('a partial defined in another part is not available', () => {
    const { unsupported: list } = templateVariables(
      { Html: '{{#*inline "p"}}x{{/inline}}', Text: '{{> p}}' },
      { inline: false },
    );
    expect(list).toEqual([expect.objectContaining({ part: 'Text', construct: '{{> p}}' })]);
  });

  it('walks each partial once per scope, so exponentially nesting partials are checked in full', () => {
    // 2^30 expansions without memoisation; the old walk gave up with "partials nest too deeply to be checked"
    let src = '{{#*inline "p0"}}{{leaf}}{{/inline}}';
    for (let i = 1; i <= 30; i++) src += `{{#*inline "p${i}"}}{{> p${i - 1}}}{{> p${i - 1}}}{{/inline}}`;
    src += '{{> p30}}';
    const result = templateVariables({ Html: src }, { inline: false });
    expect(result.variables).toEqual([{ name: 'leaf', path: ['leaf'], required: true, parts: ['Html'] }]);
    expect(result.unsupported).toEqual([]);
    expect(result.tooComplex).toBeUndefined();
  });
});

/* ------------------------------------------------------------------ cross-check with real Handlebars */

// The emulator's own Handlebars (a dependency of the aws-ses-v2-local dev dependency), in strict mode: a missing
// variable throws, which is what SES does for a plain substitution (a Rendering Failure).
const requireHere = createRequire(import.meta.url);
const Handlebars = createRequire(requireHere.resolve('aws-ses-v2-local'))('handlebars') as {
  create(): { compile(src: string, o: object): (data: unknown) => string };
};
const hb = Handlebars.create();

function dataWith(paths: string[][]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const path of paths) {
    let node = root;
    path.forEach((seg, i) => {
      if (i === path.length - 1) {
        if (!(seg in node)) node[seg] = `v-${seg}`;
      } else {
        if (typeof node[seg] !== 'object' || node[seg] === null) node[seg] = {};
        node = node[seg] as Record<string, unknown>;
      }
    });
  }
  return root;
}

function without(data: Record<string, unknown>, path: string[]): Record<string, unknown> {
  const copy = structuredClone(data);
  let node: Record<string, unknown> = copy;
  for (const seg of path.slice(0, -1)) node = node[seg] as Record<string, unknown>;
  delete node[path[path.length - 1]];
  return copy;
}

describe('templateVariables agrees with Handlebars strict rendering', () => {
  it.each([
    'Hi {{name}}, {{contact.firstName}} {{contact.lastName}} from {{{company.name}}}',
    '{{~greeting~}} {{this.name}} {{./code}} {{@root.sig}}',
    '{{#if vip}}{{vipName}}{{else}}{{plainName}}{{/if}} {{always}}',
    '{{#unless optOut}}{{offer}}{{/unless}}{{footer}}',
    '{{#*inline "greet"}}Hello {{first}} {{last}}{{/inline}}{{> greet}} and {{other}}',
    '{{#*inline "g"}}{{t}}{{/inline}}{{> g t="x"}} {{u}}',
    '{{! {{commented}} }}{{!-- {{alsoCommented}} --}}{{real}} \\{{escaped}}',
    '{{lookup prices sku}} {{total}}',
    '{{#if a}}{{#if b}}{{c}}{{/if}}{{/if}}{{d.e.f}}',
    '{{"quoted name"}} {{^if hidden}}{{shown}}{{/if}} {{plain}}',
    '{{#*inline "row"}}{{label}}: {{value}}{{/inline}}{{> row}}{{#if more}}{{> row}}{{/if}}',
  ])('%s', (source) => {
    const { variables } = templateVariables({ Html: source }, { inline: false });
    const full = dataWith(variables.map((v) => v.path));
    const render = hb.compile(source, { strict: true, noEscape: true });
    expect(() => render(full)).not.toThrow();
    for (const v of variables.filter((x) => x.required)) {
      expect(() => render(without(full, v.path)), `without ${v.name}`).toThrow();
    }
  });
});

describe('templateVariables on generated templates', () => {
  const fragments = [
    'text ',
    '{{a}}',
    '{{b.c}}',
    '{{{d}}}',
    '{{~e~}}',
    '{{& f}}',
    '{{! note }}',
    '{{!-- {{hidden}} --}}',
    '\\{{escaped}}',
    '{{lookup m n}}',
    '{{#each list}}{{this}}{{../k}}{{/each}}',
    '{{#unless u}}{{v}}{{/unless}}',
    '{{#if p}}{{q}}{{else if r}}{{s}}{{else}}{{t}}{{/if}}',
    '{{> card}}',
    '{{> card title=a}}',
    '{{#each list}}{{> card}}{{/each}}',
  ];
  /** Defined once at the top, used by the fragments above: partials are walked once per scope. */
  const card = '{{#*inline "card"}}{{title}} {{#if sub}}{{subtitle}}{{/if}}{{/inline}}';
  const template = fc
    .letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constantFrom(...fragments),
        fc.tuple(fc.constantFrom('w', 'x', 'y'), tie('list')).map(([c, body]) => `{{#if ${c}}}${body}{{/if}}`),
        tie('list'),
      ),
      list: fc.array(tie('node'), { maxLength: 5 }).map((parts) => (parts as string[]).join('')),
    }))
    .list.map((body) => `${card}${body}`);

  it('parses whatever Handlebars parses, and every required variable is needed by strict Handlebars', () => {
    fc.assert(
      fc.property(template, (source) => {
        const { variables, unsupported } = templateVariables({ Html: source }, { inline: false });
        expect(unsupported).toEqual([]);
        const full = dataWith(variables.map((v) => v.path));
        const render = hb.compile(source, { strict: true, noEscape: true });
        render(full);
        for (const v of variables.filter((x) => x.required && x.name !== 'list')) {
          expect(() => render(without(full, v.path)), `${source} without ${v.name}`).toThrow();
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('templateVariables: nesting bound', () => {
  it('refuses blocks nested more than 100 deep instead of overflowing the stack', () => {
    const deep = `${'{{#if a}}'.repeat(5000)}x${'{{/if}}'.repeat(5000)}`;
    const out = templateVariables({ Text: deep }, { inline: false });
    expect(out.tooComplex).toMatchObject({ part: 'Text', reason: expect.stringMatching(/nested more than 100 deep/) });
    const chained = `{{#if a}}${'{{else if b}}'.repeat(5000)}{{/if}}`;
    expect(templateVariables({ Text: chained }, { inline: false }).tooComplex?.reason).toMatch(/more than 100 deep/);
    const ok = `${'{{#if a}}'.repeat(50)}{{x}}${'{{/if}}'.repeat(50)}`;
    expect(templateVariables({ Text: ok }, { inline: false }).unsupported).toEqual([]);
  });
});

// templateVariables(): which data variables a template's Subject/Text/Html use, which are required, what SES cannot render.
import { MAX_DETAILS } from '../errors.js';
import type { EmailTemplateContent } from '../types.js';
import {
  type BlockNode,
  type ExpressionNode,
  excerpt,
  type HashNode,
  type Loc,
  type MustacheNode,
  PARSE_LIMITS,
  type ParseBudget,
  type PartialBlockNode,
  type PartialNode,
  type PathNode,
  type ProgramNode,
  parseTemplatePart,
  positionsOf,
  type StatementNode,
} from './template-parse.js';

export type TemplatePart = 'Subject' | 'Text' | 'Html';

export const TEMPLATE_PARTS: readonly TemplatePart[] = ['Subject', 'Text', 'Html'];

/** A data variable the template reads from the root of the template data. */
export interface VariableRef {
  /** Display name: `name`, `contact.firstName`, `list.[0]`. */
  name: string;
  /** Segments looked up from the root of the data, e.g. `['contact', 'firstName']`. */
  path: string[];
  /**
   * True when rendering fails without it: a plain substitution (`{{x}}`, `{{{x}}}`, `{{&x}}`) outside any
   * conditional section, or the list/object of a top-level `{{#each x}}` / `{{#with x}}` (or the context of a
   * top-level `{{> partial x}}`). Variables only read inside `#if`/`#unless`/`else` bodies, as helper
   * arguments (`#if x`, `lookup x …`), or through `../` and `@root` inside blocks are reported with `false`.
   */
  required: boolean;
  /** The parts that use it. */
  parts: TemplatePart[];
}

/** Something in a template that SES will not render (inline templates: anything beyond simple substitution). */
export interface UnsupportedConstruct {
  /** The tag as written, e.g. `{{#if premium}}` (cut to 80 characters). */
  construct: string;
  part: TemplatePart;
  /** Why, for humans: `block helper "#if"`, `partial "header" is not defined in this part`, … */
  reason: string;
}

export interface TemplateVariables {
  /** Every root-data variable, in order of first use, once each. */
  variables: VariableRef[];
  /** What SES cannot render, each once, the first `MAX_DETAILS` found. */
  unsupported: UnsupportedConstruct[];
  /** How many more were found than `unsupported` lists (absent when none). */
  unlisted?: number;
  /**
   * Set when the template is beyond what the check reads (`TEMPLATE_LIMITS`): the check stopped there, so
   * `variables` and `unsupported` are incomplete and no entry can be passed on their strength.
   */
  tooComplex?: UnsupportedConstruct;
}

/**
 * The most work one template may cost the check: `PARSE_LIMITS` for reading it, and `maxVisits` for walking it, each
 * node counted every time it is walked (inside expanded partials too). A partial is walked once per scope it is
 * used in (context depth, inside a condition or not, names hidden by hash parameters), so a partial used a thousand
 * times in one scope costs one walk.
 */
export const TEMPLATE_LIMITS = { ...PARSE_LIMITS, maxVisits: 20_000 } as const;

/** Ends the reason of a construct SES renders only in stored templates. */
export const INLINE_ONLY = 'inline TemplateContent supports simple substitutions only';

/** Handlebars' built-in helpers: the only ones SES has (custom helpers cannot be registered). */
const BUILTIN_HELPERS = new Set([
  'if',
  'unless',
  'each',
  'with',
  'lookup',
  'log',
  'helperMissing',
  'blockHelperMissing',
]);

/** Handlebars' `scopedId`: `this.x`, `./x` never call a helper. */
const SCOPED = /^\.|this\b/;

/** A path as the check reads it: from `{{a.b}}`, `{{../x}}`, `{{@root.y}}`, or a literal head (`{{"a b"}}`). */
interface Ref {
  data: boolean;
  /** How many `../` lead the path. */
  up: number;
  parts: string[];
}

interface Scope {
  /** How many context changes (`#each`, `#with`, sections, partial contexts) lie between here and the root data. */
  depth: number;
  /** Inside a section that may not render (`#if`, `else`, …). */
  conditional: boolean;
  /** Keys a partial's hash parameters put over the context (`{{> p title="x"}}`). */
  shadow?: ReadonlySet<string>;
}

/** Thrown to stop the walk at a limit; caught in `templateVariables`. */
class LimitReached {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}

function displayName(path: string[]): string {
  return path
    .map((seg, i) => (/^[A-Za-z0-9_$-]+$/.test(seg) ? (i ? `.${seg}` : seg) : i ? `.[${seg}]` : `[${seg}]`))
    .join('');
}

function shorten(source: string): string {
  return source.length <= 80 ? source : `${source.slice(0, 77)}...`;
}

/** A name shown in a reason: at most 60 characters. */
function shown(name: string): string {
  return name.length <= 60 ? name : `${name.slice(0, 57)}...`;
}

/** The name a helper or section is called by: `if`, `formatDate`; a string literal's text. */
function simpleName(expr: ExpressionNode): string | undefined {
  if (expr.type === 'StringLiteral') return String(expr.value);
  if (expr.type !== 'PathExpression') return undefined;
  const [head] = expr.parts;
  if (expr.data || expr.depth !== 0 || expr.parts.length !== 1 || typeof head !== 'string') return undefined;
  return SCOPED.test(expr.original) ? undefined : head;
}

function refOf(expr: PathNode): Ref | undefined {
  const parts: string[] = [];
  for (const part of expr.parts) {
    if (typeof part !== 'string') return undefined;
    parts.push(part);
  }
  return { data: expr.data, up: expr.depth, parts };
}

/** The path a mustache or block head reads: Handlebars reads a literal head (`{{"a b"}}`, `{{1}}`) as a path. */
function calleeRef(expr: ExpressionNode): Ref | undefined {
  if (expr.type === 'PathExpression') return refOf(expr);
  if (expr.type === 'SubExpression' || expr.type === 'HashLiteral') return undefined;
  return { data: false, up: 0, parts: [String(expr.original)] };
}

/** Syntax @handlebars/parser 2.2 accepts and Handlebars 4 (so SES) refuses; `callee` for a helper position. */
function notHandlebars4(expr: ExpressionNode, callee: boolean): string | undefined {
  if (expr.type === 'HashLiteral') return 'hash literals such as {{a=1}} or (a=1)';
  if (expr.type === 'SubExpression' && callee) return 'a subexpression called as a helper, such as {{(a) b}}';
  if (expr.type === 'PathExpression' && expr.parts.some((part) => typeof part !== 'string'))
    return 'a path on a subexpression, such as (a).b';
  return undefined;
}

function partialNameOf(expr: ExpressionNode): string | undefined {
  if (expr.type === 'PathExpression') return expr.original;
  if (expr.type === 'SubExpression' || expr.type === 'HashLiteral') return undefined;
  return expr.value === undefined || expr.value === null ? undefined : String(expr.value);
}

/** The path from the root of the data a reference reads, or null when it reads something else. */
function rootPath(ref: Ref, scope: Scope): string[] | null {
  let parts: string[];
  if (ref.data) {
    // @root.x reads the root; @index, @key, @first, @last and @../index are iteration data
    if (ref.up !== 0 || ref.parts[0] !== 'root') return null;
    parts = ref.parts.slice(1);
  } else if (ref.up > 0) {
    if (scope.depth - ref.up > 0) return null;
    parts = ref.parts;
  } else {
    if (scope.depth > 0) return null;
    if (scope.shadow && ref.parts.length && scope.shadow.has(ref.parts[0])) return null;
    parts = ref.parts;
  }
  return parts.length ? parts : null;
}

/** A statement written as a tag (not text or a comment). */
type TagNode = MustacheNode | BlockNode | PartialNode | PartialBlockNode;

function isTag(node: StatementNode): node is TagNode {
  return node.type !== 'ContentStatement' && node.type !== 'CommentStatement';
}

function valuesOf(params: ExpressionNode[], hash: HashNode | undefined): ExpressionNode[] {
  return hash ? [...params, ...hash.pairs.map((pair) => pair.value)] : params;
}

/**
 * Parses the Subject, Text and Html of a template once and lists the root-data variables they use.
 * `inline: true` (a request's `TemplateContent`) reports every block, partial, helper or decorator as unsupported,
 * since SES renders inline templates with simple substitutions only; the variables are still worked out with the
 * stored-template rules. `inline: false` reports only what SES cannot render at all (syntax errors, custom
 * helpers, partials not defined inline in the same part, decorators other than `inline`, raw blocks).
 * Work is bounded by `TEMPLATE_LIMITS`; past them the answer says `tooComplex`.
 */
export function templateVariables(content: EmailTemplateContent, options: { inline: boolean }): TemplateVariables {
  const byName = new Map<string, VariableRef>();
  const unsupported: UnsupportedConstruct[] = [];
  const seenProblems = new Set<string>();
  let unlisted = 0;
  const answer = (tooComplex?: UnsupportedConstruct): TemplateVariables => {
    const result: TemplateVariables = { variables: [...byName.values()], unsupported };
    if (unlisted > 0) result.unlisted = unlisted;
    if (tooComplex) result.tooComplex = tooComplex;
    return result;
  };

  // Only parts with a tag are read; their size bounds the lexer's work.
  const toRead = TEMPLATE_PARTS.filter((part) => {
    const source = content[part];
    return typeof source === 'string' && source.includes('{{');
  });
  let chars = 0;
  for (const part of toRead) {
    chars += (content[part] as string).length;
    if (chars > TEMPLATE_LIMITS.maxChars) {
      const limit = TEMPLATE_LIMITS.maxChars.toLocaleString('en-US');
      return answer({ construct: '', part, reason: `Subject, Text and Html together are over ${limit} characters` });
    }
  }

  const budget: ParseBudget = { tokens: TEMPLATE_LIMITS.maxTokens };
  let visits = TEMPLATE_LIMITS.maxVisits;
  for (const part of toRead) {
    const source = content[part] as string;
    const offsetOf = positionsOf(source);
    const report = (construct: string, reason: string) => {
      const key = `${part}\0${construct}\0${reason}`;
      if (seenProblems.has(key)) return;
      seenProblems.add(key);
      if (unsupported.length < MAX_DETAILS) unsupported.push({ construct, part, reason });
      else unlisted += 1;
    };

    const parsed = parseTemplatePart(source, budget);
    if (parsed.problem) {
      const construct = excerpt(source, parsed.problem.offset);
      if (parsed.problem.limit) return answer({ construct, part, reason: parsed.problem.reason });
      report(construct, parsed.problem.reason);
      continue;
    }

    /** The tag as written: a block's opening tag only (to the `}}` after its last parameter). */
    const tagOf = (node: TagNode): string => {
      const start = offsetOf(node.loc.start);
      let end = offsetOf(node.loc.end);
      if ((node.type === 'BlockStatement' || node.type === 'DecoratorBlock') && !source.startsWith('{{{{', start)) {
        end = openTagEnd(node.path, node.params, node.hash);
      } else if (node.type === 'PartialBlockStatement') {
        end = openTagEnd(node.name, node.params, node.hash);
      }
      return shorten(source.slice(start, end));
    };
    const openTagEnd = (head: ExpressionNode, params: ExpressionNode[], hash: HashNode | undefined): number => {
      const last: { loc: Loc } = hash ?? params[params.length - 1] ?? head;
      const close = source.indexOf('}}', offsetOf(last.loc.end));
      return close < 0 ? source.length : close + 2;
    };
    const startsWith = (loc: Loc, pattern: RegExp) =>
      pattern.test(source.slice(offsetOf(loc.start), offsetOf(loc.start) + 4));
    const charge = (node: { loc: Loc }, cost = 1) => {
      visits -= cost;
      if (visits < 0) {
        const limit = TEMPLATE_LIMITS.maxVisits.toLocaleString('en-US');
        throw new LimitReached(offsetOf(node.loc.start), `partials expand to more than ${limit} nodes to check`);
      }
    };
    const deeper = (node: { loc: Loc }, level: number): number => {
      if (level >= TEMPLATE_LIMITS.maxNesting)
        throw new LimitReached(
          offsetOf(node.loc.start),
          `blocks, subexpressions and partials nested more than ${TEMPLATE_LIMITS.maxNesting} deep`,
        );
      return level + 1;
    };
    const inlineOnly = (node: TagNode, what: string) => {
      if (options.inline) report(tagOf(node), `${what}; ${INLINE_ONLY}`);
    };
    /** Reports, anywhere in the part (unused partials included), the syntax Handlebars 4 does not have. */
    const checkSyntax = (program: ProgramNode | undefined) => {
      if (!program) return;
      for (const node of program.body) {
        if (!isTag(node)) continue;
        const head = node.type === 'PartialStatement' || node.type === 'PartialBlockStatement' ? node.name : node.path;
        checkExpression(node, head, node.type !== 'PartialStatement' && node.type !== 'PartialBlockStatement');
        for (const value of valuesOf(node.params, node.hash)) checkExpression(node, value, false);
        if (node.type === 'BlockStatement' || node.type === 'DecoratorBlock') {
          checkSyntax(node.program);
          checkSyntax(node.inverse);
        } else if (node.type === 'PartialBlockStatement') checkSyntax(node.program);
      }
    };
    const checkExpression = (node: TagNode, expr: ExpressionNode, callee: boolean) => {
      const what = notHandlebars4(expr, callee);
      if (what) return report(tagOf(node), `template syntax error: ${what} is not Handlebars 4 syntax`);
      if (expr.type !== 'SubExpression') return;
      checkExpression(node, expr.path, true);
      for (const value of valuesOf(expr.params, expr.hash)) checkExpression(node, value, false);
    };
    const addRef = (ref: Ref | undefined, scope: Scope, required: boolean) => {
      const rooted = ref && rootPath(ref, scope);
      if (!rooted) return;
      const name = displayName(rooted);
      const isRequired = required && !scope.conditional;
      const existing = byName.get(name);
      if (existing) {
        existing.required ||= isRequired;
        if (!existing.parts.includes(part)) existing.parts.push(part);
      } else {
        byName.set(name, { name, path: rooted, required: isRequired, parts: [part] });
      }
    };

    const partials = new Map<string, ProgramNode>();
    /** Inline partial definitions (`{{#*inline "name"}}…{{/inline}}`) anywhere in the part. */
    const collectPartials = (program: ProgramNode | undefined) => {
      if (!program) return;
      for (const node of program.body) {
        if (node.type !== 'BlockStatement' && node.type !== 'DecoratorBlock' && node.type !== 'PartialBlockStatement')
          continue;
        if (node.type === 'DecoratorBlock' && simpleName(node.path) === 'inline') {
          const name = node.params[0] && partialNameOf(node.params[0]);
          if (name !== undefined && node.program) partials.set(name, node.program);
        }
        collectPartials(node.program);
        if (node.type !== 'PartialBlockStatement') collectPartials(node.inverse);
      }
    };
    /** Partials on the way down (a recursive partial stops there), and the (partial, scope) pairs already walked. */
    const expanding = new Set<string>();
    const expanded = new Set<string>();

    const walk = (program: ProgramNode | undefined, scope: Scope, level: number) => {
      if (!program) return;
      for (const node of program.body) walkStatement(node, scope, level);
    };

    const walkStatement = (node: StatementNode, scope: Scope, level: number) => {
      charge(node);
      switch (node.type) {
        case 'ContentStatement':
        case 'CommentStatement':
          return;
        case 'MustacheStatement':
          return walkMustache(node, scope, level);
        case 'Decorator':
          return report(tagOf(node), 'decorators are not supported');
        case 'BlockStatement':
          if (source.startsWith('{{{{', offsetOf(node.loc.start)))
            return report(tagOf(node), `raw block "${shown(partialNameOf(node.path) ?? '?')}" needs a custom helper`);
          return walkBlock(node, scope, deeper(node, level));
        case 'DecoratorBlock': {
          const name = simpleName(node.path);
          if (name === 'inline') inlineOnly(node, 'inline partial definition');
          else report(tagOf(node), `decorator "${shown(name ?? '?')}" is not supported`);
          return; // inline partials are walked where they are used
        }
        case 'PartialStatement':
          return walkPartial(node, scope, level, false);
        case 'PartialBlockStatement':
          return walkPartialBlock(node, scope, deeper(node, level));
      }
    };

    /** Arguments of helpers and subexpressions: their variables are read but never required. */
    const walkArgs = (node: TagNode, values: ExpressionNode[], scope: Scope, level: number) => {
      for (const value of values) {
        charge(value);
        if (notHandlebars4(value, false)) continue; // reported by checkSyntax
        if (value.type === 'PathExpression') addRef(refOf(value), scope, false);
        else if (value.type === 'SubExpression')
          walkHelper(node, value.path, valuesOf(value.params, value.hash), scope, deeper(value, level));
      }
    };

    const walkHelper = (node: TagNode, callee: ExpressionNode, args: ExpressionNode[], scope: Scope, level: number) => {
      if (notHandlebars4(callee, true)) return;
      const name = shown(simpleName(callee) ?? (callee.type === 'PathExpression' ? callee.original : '(…)'));
      if (options.inline) inlineOnly(node, `helper "${name}"`);
      else if (!BUILTIN_HELPERS.has(name)) {
        report(
          tagOf(node),
          `helper "${name}" is not a Handlebars built-in usable here (SES cannot register custom helpers)`,
        );
      }
      walkArgs(node, args, scope, level);
    };

    const walkMustache = (node: MustacheNode, scope: Scope, level: number) => {
      const name = simpleName(node.path);
      const isHelper =
        node.params.length > 0 ||
        node.hash !== undefined ||
        (name !== undefined && BUILTIN_HELPERS.has(name) && node.path.type === 'PathExpression');
      if (isHelper) return walkHelper(node, node.path, valuesOf(node.params, node.hash), scope, level);
      if (!notHandlebars4(node.path, true)) addRef(calleeRef(node.path), scope, true);
    };

    const walkBlock = (node: BlockNode, scope: Scope, level: number) => {
      if (notHandlebars4(node.path, true)) return;
      const name = simpleName(node.path);
      const label = shown(name ?? partialNameOf(node.path) ?? '?');
      const inner: Scope = { depth: scope.depth + 1, conditional: true };
      const same: Scope = { ...scope, conditional: true };
      // {{^x}}…{{/x}}: its body is the block's inverse; the message names it as written
      if (startsWith(node.loc, /^\{\{~?\^/)) inlineOnly(node, `inverted section "^${label}"`);
      else inlineOnly(node, `block helper "#${label}"`);
      const [subject] = node.params;
      if (name === 'if' || name === 'unless') {
        walkArgs(node, valuesOf(node.params, node.hash), scope, level);
        walk(node.program, same, level);
      } else if (name === 'each' || name === 'with') {
        const listed = subject?.type === 'PathExpression';
        if (listed) addRef(refOf(subject), scope, true);
        walkArgs(node, valuesOf(listed ? node.params.slice(1) : node.params, node.hash), scope, level);
        walk(node.program, inner, level);
      } else if (node.params.length === 0 && node.hash === undefined && !(name && BUILTIN_HELPERS.has(name))) {
        // {{#section}}…{{/section}}: rendered when truthy, iterated when a list, with the value as context
        addRef(calleeRef(node.path), scope, false);
        walk(node.program, inner, level);
      } else {
        if (!options.inline)
          report(
            tagOf(node),
            `block helper "#${label}" is not a Handlebars built-in (SES cannot register custom helpers)`,
          );
        walkArgs(node, valuesOf(node.params, node.hash), scope, level);
        walk(node.program, inner, level);
      }
      walk(node.inverse, same, level);
    };

    const walkPartialBlock = (node: PartialBlockNode, scope: Scope, level: number) => {
      const name = partialNameOf(node.name);
      const defined = name !== undefined && partials.has(name);
      inlineOnly(node, `partial block "${shown(name ?? '?')}"`);
      if (defined) walkPartial(node, scope, level, true);
      // rendered in place of an undefined partial, or as {{> @partial-block}} inside a defined one
      walk(node.program, defined ? { ...scope, conditional: true } : scope, level);
    };

    /** `{{> name context? key=value…}}`, or a `{{#> name}}` block whose partial is defined (`block`). */
    const walkPartial = (node: PartialNode | PartialBlockNode, scope: Scope, level: number, block: boolean) => {
      if (notHandlebars4(node.name, false)) return;
      const name = partialNameOf(node.name);
      if (!block) inlineOnly(node, `partial "${shown(name ?? '(…)')}"`);
      if (name === undefined) {
        if (!options.inline) report(tagOf(node), 'dynamic partials cannot be checked');
        if (node.name.type === 'SubExpression') {
          const sub = node.name;
          walkHelper(node, sub.path, valuesOf(sub.params, sub.hash), scope, deeper(sub, level));
        }
        return;
      }
      if (name === '@partial-block') return;
      const body = partials.get(name);
      if (!body) {
        if (!options.inline && !block)
          report(tagOf(node), `partial "${shown(name)}" is not defined in this part (SES has no registered partials)`);
        return;
      }
      const [context] = node.params;
      walkArgs(node, valuesOf(node.params.slice(context?.type === 'PathExpression' ? 1 : 0), node.hash), scope, level);
      if (expanding.has(name)) return; // recursive partial: its variables are already counted
      let entry: Scope;
      if (context?.type === 'PathExpression') {
        addRef(refOf(context), scope, true);
        entry = { depth: scope.depth + 1, conditional: scope.conditional };
      } else if (context) {
        entry = { depth: scope.depth + 1, conditional: scope.conditional };
      } else {
        const keys = node.hash?.pairs.map((pair) => pair.key) ?? [];
        entry = keys.length ? { ...scope, shadow: new Set([...(scope.shadow ?? []), ...keys]) } : scope;
      }
      // The same partial in the same scope adds the same variables and problems: walk it once.
      const hidden = entry.shadow ? [...entry.shadow].sort() : [];
      charge(node, 1 + hidden.length);
      const key = `${name}\0${entry.depth}\0${entry.conditional ? 1 : 0}\0${hidden.join('\0')}`;
      if (expanded.has(key)) return;
      expanded.add(key);
      const next = deeper(node, level);
      expanding.add(name);
      walk(body, entry, next);
      expanding.delete(name);
    };

    try {
      checkSyntax(parsed.program);
      collectPartials(parsed.program);
      walk(parsed.program, { depth: 0, conditional: false }, 0);
    } catch (err) {
      if (!(err instanceof LimitReached)) throw err;
      return answer({ construct: excerpt(source, err.offset), part, reason: err.reason });
    }
  }
  return answer();
}

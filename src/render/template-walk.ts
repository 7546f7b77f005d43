// walkPart(): the variables and problems of one parsed template part, as Handlebars renders it, work charged to a budget.
import {
  type BlockNode,
  type ExpressionNode,
  type HashNode,
  type Loc,
  type MustacheNode,
  type PartialBlockNode,
  type PartialNode,
  type PathNode,
  type ProgramNode,
  positionsOf,
  type StatementNode,
} from './template-parse.js';
import type { TemplatePart, VariableRef } from './template-variables.js';

/** Ends the reason of a construct SES renders only in stored templates. */
export const INLINE_ONLY = 'inline TemplateContent supports simple substitutions only';

/** What the walks of a template's parts share: what they found, and the work left. */
export interface Findings {
  /** Root-data variables by display name, in order of first use. */
  variables: Map<string, VariableRef>;
  /** Records a problem (each distinct one once). */
  report(part: TemplatePart, construct: string, reason: string): void;
  /** Nodes the walks may still visit, counted each time one is walked; below zero, the walk stops. */
  visitsLeft: number;
}

export interface WalkLimits {
  maxVisits: number;
  maxNesting: number;
}

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
export class LimitReached {
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
 * Walks one part: every variable its tags read from the root of the data (required or conditional) into
 * `findings.variables`, every construct SES cannot render into `findings.report`. A partial is walked where it is
 * used, once per scope (context depth, inside a condition or not, names its hash parameters hide); every walked node
 * is charged to `findings.visitsLeft`, nesting (blocks, subexpressions, expanded partials) is capped at
 * `limits.maxNesting`. Throws `LimitReached` past either.
 */
export function walkPart(
  part: TemplatePart,
  source: string,
  program: ProgramNode,
  findings: Findings,
  options: { inline: boolean; limits: WalkLimits },
): void {
  const walk = new PartWalk(part, source, findings, options.inline, options.limits);
  walk.checkSyntax(program);
  walk.collectPartials(program);
  walk.program(program, { depth: 0, conditional: false }, 0);
}

class PartWalk {
  private readonly offsetOf: ReturnType<typeof positionsOf>;
  /** Inline partial definitions (`{{#*inline "name"}}…{{/inline}}`) anywhere in the part. */
  private readonly partials = new Map<string, ProgramNode>();
  /** Partials on the way down (a recursive partial stops there). */
  private readonly expanding = new Set<string>();
  /** The (partial, scope) pairs already walked. */
  private readonly expanded = new Set<string>();

  constructor(
    private readonly part: TemplatePart,
    private readonly source: string,
    private readonly findings: Findings,
    private readonly inline: boolean,
    private readonly limits: WalkLimits,
  ) {
    this.offsetOf = positionsOf(source);
  }

  /* -------------------------------------------------------------- reading the source */

  private report(node: TagNode, reason: string): void {
    this.findings.report(this.part, this.tagOf(node), reason);
  }

  /** The tag as written: a block's opening tag only (to the `}}` after its last parameter). */
  private tagOf(node: TagNode): string {
    const start = this.offsetOf(node.loc.start);
    let end = this.offsetOf(node.loc.end);
    if ((node.type === 'BlockStatement' || node.type === 'DecoratorBlock') && !this.isRaw(node)) {
      end = this.openTagEnd(node.path, node.params, node.hash);
    } else if (node.type === 'PartialBlockStatement') {
      end = this.openTagEnd(node.name, node.params, node.hash);
    }
    return shorten(this.source.slice(start, end));
  }

  private openTagEnd(head: ExpressionNode, params: ExpressionNode[], hash: HashNode | undefined): number {
    const last: { loc: Loc } = hash ?? params[params.length - 1] ?? head;
    const close = this.source.indexOf('}}', this.offsetOf(last.loc.end));
    return close < 0 ? this.source.length : close + 2;
  }

  /** `{{{{raw}}}}…{{{{/raw}}}}`: the parser gives it as a block. */
  private isRaw(node: BlockNode): boolean {
    return this.source.startsWith('{{{{', this.offsetOf(node.loc.start));
  }

  /** `{{^x}}…{{/x}}`: the parser gives its body as the block's inverse. */
  private isInverted(node: BlockNode): boolean {
    const start = this.offsetOf(node.loc.start);
    return /^\{\{~?\^/.test(this.source.slice(start, start + 4));
  }

  private inlineOnly(node: TagNode, what: string): void {
    if (this.inline) this.report(node, `${what}; ${INLINE_ONLY}`);
  }

  /* -------------------------------------------------------------- limits */

  private charge(node: { loc: Loc }, cost = 1): void {
    this.findings.visitsLeft -= cost;
    if (this.findings.visitsLeft < 0) {
      const limit = this.limits.maxVisits.toLocaleString('en-US');
      throw new LimitReached(this.offsetOf(node.loc.start), `partials expand to more than ${limit} nodes to check`);
    }
  }

  private deeper(node: { loc: Loc }, level: number): number {
    if (level >= this.limits.maxNesting) {
      const reason = `blocks, subexpressions and partials nested more than ${this.limits.maxNesting} deep`;
      throw new LimitReached(this.offsetOf(node.loc.start), reason);
    }
    return level + 1;
  }

  /* -------------------------------------------------------------- whole-tree passes */

  /** Reports, anywhere in the part (unused partials included), the syntax Handlebars 4 does not have. */
  checkSyntax(program: ProgramNode | undefined): void {
    if (!program) return;
    for (const node of program.body) {
      if (!isTag(node)) continue;
      const partial = node.type === 'PartialStatement' || node.type === 'PartialBlockStatement';
      this.checkExpression(node, partial ? node.name : node.path, !partial);
      for (const value of valuesOf(node.params, node.hash)) this.checkExpression(node, value, false);
      if (node.type === 'BlockStatement' || node.type === 'DecoratorBlock') {
        this.checkSyntax(node.program);
        this.checkSyntax(node.inverse);
      } else if (node.type === 'PartialBlockStatement') this.checkSyntax(node.program);
    }
  }

  private checkExpression(node: TagNode, expr: ExpressionNode, callee: boolean) {
    const what = notHandlebars4(expr, callee);
    if (what) return this.report(node, `template syntax error: ${what} is not Handlebars 4 syntax`);
    if (expr.type !== 'SubExpression') return;
    this.checkExpression(node, expr.path, true);
    for (const value of valuesOf(expr.params, expr.hash)) this.checkExpression(node, value, false);
  }

  collectPartials(program: ProgramNode | undefined): void {
    if (!program) return;
    for (const node of program.body) {
      if (node.type !== 'BlockStatement' && node.type !== 'DecoratorBlock' && node.type !== 'PartialBlockStatement')
        continue;
      if (node.type === 'DecoratorBlock' && simpleName(node.path) === 'inline') {
        const name = node.params[0] && partialNameOf(node.params[0]);
        if (name !== undefined && node.program) this.partials.set(name, node.program);
      }
      this.collectPartials(node.program);
      if (node.type !== 'PartialBlockStatement') this.collectPartials(node.inverse);
    }
  }

  /* -------------------------------------------------------------- the walk */

  private addRef(ref: Ref | undefined, scope: Scope, required: boolean): void {
    const rooted = ref && rootPath(ref, scope);
    if (!rooted) return;
    const name = displayName(rooted);
    const isRequired = required && !scope.conditional;
    const existing = this.findings.variables.get(name);
    if (existing) {
      existing.required ||= isRequired;
      if (!existing.parts.includes(this.part)) existing.parts.push(this.part);
    } else {
      this.findings.variables.set(name, { name, path: rooted, required: isRequired, parts: [this.part] });
    }
  }

  program(program: ProgramNode | undefined, scope: Scope, level: number): void {
    if (!program) return;
    for (const node of program.body) this.statement(node, scope, level);
  }

  private statement(node: StatementNode, scope: Scope, level: number) {
    this.charge(node);
    switch (node.type) {
      case 'ContentStatement':
      case 'CommentStatement':
        return;
      case 'MustacheStatement':
        return this.mustache(node, scope, level);
      case 'Decorator':
        return this.report(node, 'decorators are not supported');
      case 'BlockStatement':
        if (this.isRaw(node))
          return this.report(node, `raw block "${shown(partialNameOf(node.path) ?? '?')}" needs a custom helper`);
        return this.block(node, scope, this.deeper(node, level));
      case 'DecoratorBlock': {
        const name = simpleName(node.path);
        if (name === 'inline') this.inlineOnly(node, 'inline partial definition');
        else this.report(node, `decorator "${shown(name ?? '?')}" is not supported`);
        return; // inline partials are walked where they are used
      }
      case 'PartialStatement':
        return this.partial(node, scope, level, false);
      case 'PartialBlockStatement':
        return this.partialBlock(node, scope, this.deeper(node, level));
    }
  }

  /** Arguments of helpers and subexpressions: their variables are read but never required. */
  private args(node: TagNode, values: ExpressionNode[], scope: Scope, level: number): void {
    for (const value of values) {
      this.charge(value);
      if (notHandlebars4(value, false)) continue; // reported by checkSyntax
      if (value.type === 'PathExpression') this.addRef(refOf(value), scope, false);
      else if (value.type === 'SubExpression')
        this.helper(node, value.path, valuesOf(value.params, value.hash), scope, this.deeper(value, level));
    }
  }

  private helper(node: TagNode, callee: ExpressionNode, args: ExpressionNode[], scope: Scope, level: number): void {
    if (notHandlebars4(callee, true)) return;
    const name = shown(simpleName(callee) ?? (callee.type === 'PathExpression' ? callee.original : '(…)'));
    if (this.inline) this.inlineOnly(node, `helper "${name}"`);
    else if (!BUILTIN_HELPERS.has(name)) {
      this.report(
        node,
        `helper "${name}" is not a Handlebars built-in usable here (SES cannot register custom helpers)`,
      );
    }
    this.args(node, args, scope, level);
  }

  private mustache(node: MustacheNode, scope: Scope, level: number) {
    const name = simpleName(node.path);
    const isHelper =
      node.params.length > 0 ||
      node.hash !== undefined ||
      (name !== undefined && BUILTIN_HELPERS.has(name) && node.path.type === 'PathExpression');
    if (isHelper) return this.helper(node, node.path, valuesOf(node.params, node.hash), scope, level);
    if (!notHandlebars4(node.path, true)) this.addRef(calleeRef(node.path), scope, true);
  }

  private block(node: BlockNode, scope: Scope, level: number): void {
    if (notHandlebars4(node.path, true)) return;
    const name = simpleName(node.path);
    const label = shown(name ?? partialNameOf(node.path) ?? '?');
    const inner: Scope = { depth: scope.depth + 1, conditional: true };
    const same: Scope = { ...scope, conditional: true };
    if (this.isInverted(node)) this.inlineOnly(node, `inverted section "^${label}"`);
    else this.inlineOnly(node, `block helper "#${label}"`);
    const [subject] = node.params;
    if (name === 'if' || name === 'unless') {
      this.args(node, valuesOf(node.params, node.hash), scope, level);
      this.program(node.program, same, level);
    } else if (name === 'each' || name === 'with') {
      const listed = subject?.type === 'PathExpression';
      if (listed) this.addRef(refOf(subject), scope, true);
      this.args(node, valuesOf(listed ? node.params.slice(1) : node.params, node.hash), scope, level);
      this.program(node.program, inner, level);
    } else if (node.params.length === 0 && node.hash === undefined && !(name && BUILTIN_HELPERS.has(name))) {
      // {{#section}}…{{/section}}: rendered when truthy, iterated when a list, with the value as context
      this.addRef(calleeRef(node.path), scope, false);
      this.program(node.program, inner, level);
    } else {
      if (!this.inline)
        this.report(node, `block helper "#${label}" is not a Handlebars built-in (SES cannot register custom helpers)`);
      this.args(node, valuesOf(node.params, node.hash), scope, level);
      this.program(node.program, inner, level);
    }
    this.program(node.inverse, same, level);
  }

  private partialBlock(node: PartialBlockNode, scope: Scope, level: number): void {
    const name = partialNameOf(node.name);
    const defined = name !== undefined && this.partials.has(name);
    this.inlineOnly(node, `partial block "${shown(name ?? '?')}"`);
    if (defined) this.partial(node, scope, level, true);
    // rendered in place of an undefined partial, or as {{> @partial-block}} inside a defined one
    this.program(node.program, defined ? { ...scope, conditional: true } : scope, level);
  }

  /** `{{> name context? key=value…}}`, or a `{{#> name}}` block whose partial is defined (`block`). */
  private partial(node: PartialNode | PartialBlockNode, scope: Scope, level: number, block: boolean): void {
    if (notHandlebars4(node.name, false)) return;
    const name = partialNameOf(node.name);
    if (!block) this.inlineOnly(node, `partial "${shown(name ?? '(…)')}"`);
    if (name === undefined) {
      if (!this.inline) this.report(node, 'dynamic partials cannot be checked');
      if (node.name.type === 'SubExpression') {
        const sub = node.name;
        this.helper(node, sub.path, valuesOf(sub.params, sub.hash), scope, this.deeper(sub, level));
      }
      return;
    }
    if (name === '@partial-block') return;
    const body = this.partials.get(name);
    if (!body) {
      if (!this.inline && !block)
        this.report(node, `partial "${shown(name)}" is not defined in this part (SES has no registered partials)`);
      return;
    }
    const [context] = node.params;
    const values = valuesOf(node.params.slice(context?.type === 'PathExpression' ? 1 : 0), node.hash);
    this.args(node, values, scope, level);
    if (this.expanding.has(name)) return; // recursive partial: its variables are already counted
    let entry: Scope;
    if (context?.type === 'PathExpression') {
      this.addRef(refOf(context), scope, true);
      entry = { depth: scope.depth + 1, conditional: scope.conditional };
    } else if (context) {
      entry = { depth: scope.depth + 1, conditional: scope.conditional };
    } else {
      const keys = node.hash?.pairs.map((pair) => pair.key) ?? [];
      entry = keys.length ? { ...scope, shadow: new Set([...(scope.shadow ?? []), ...keys]) } : scope;
    }
    // The same partial in the same scope adds the same variables and problems: walk it once.
    const hidden = entry.shadow ? [...entry.shadow].sort() : [];
    this.charge(node, 1 + hidden.length);
    const key = `${name}\0${entry.depth}\0${entry.conditional ? 1 : 0}\0${hidden.join('\0')}`;
    if (this.expanded.has(key)) return;
    this.expanded.add(key);
    const next = this.deeper(node, level);
    this.expanding.add(name);
    this.program(body, entry, next);
    this.expanding.delete(name);
  }
}

// templateVariables(): which data variables a template's Subject/Text/Html use, which are required, what SES cannot render.
import type { EmailTemplateContent } from '../types.js';
import { type Call, type Param, type PathExpr, scanTags, type Tag } from './template-scanner.js';

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
  unsupported: UnsupportedConstruct[];
}

/* ------------------------------------------------------------------ tree */

interface BlockNode {
  type: 'block';
  tag: Tag;
  kind: 'open' | 'inverse-open' | 'partial-block' | 'decorator-block';
  call: Call;
  program: Node[];
  inverse: Node[] | null;
}
type Node = { type: 'mustache'; tag: Tag; call: Call } | { type: 'partial'; tag: Tag; call: Call } | BlockNode;

interface Problem {
  tag: Tag;
  reason: string;
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

function headName(call: Call): string | undefined {
  const head = call.head;
  if (head.type === 'path' && !head.data && head.up === 0 && !head.explicitThis && head.parts.length === 1)
    return head.parts[0];
  if (head.type === 'literal' && typeof head.value === 'string') return head.value;
  return undefined;
}

function closeName(call: Call): string {
  const head = call.head;
  return head.type === 'path' || head.type === 'literal' ? head.original : '';
}

/** Blocks open at once (`{{else if}}` links included) beyond which a template is refused: the walk stays shallow. */
const MAX_NESTING = 100;

function buildTree(tags: Tag[], problems: Problem[]): Node[] {
  const root: Node[] = [];
  const stack: { block: BlockNode; tail: BlockNode; target: Node[]; links: number }[] = [];
  let target = root;
  let nesting = 0;
  for (const tag of tags) {
    const opens =
      tag.kind === 'open' ||
      tag.kind === 'inverse-open' ||
      tag.kind === 'partial-block' ||
      tag.kind === 'decorator-block';
    if ((opens || (tag.kind === 'else' && tag.call)) && nesting >= MAX_NESTING) {
      problems.push({ tag, reason: `blocks nested more than ${MAX_NESTING} deep` });
      return root;
    }
    switch (tag.kind) {
      case 'comment':
        break;
      case 'mustache':
      case 'triple':
        target.push({ type: 'mustache', tag, call: tag.call as Call });
        break;
      case 'partial':
        target.push({ type: 'partial', tag, call: tag.call as Call });
        break;
      case 'open':
      case 'inverse-open':
      case 'partial-block':
      case 'decorator-block': {
        const block: BlockNode = {
          type: 'block',
          tag,
          kind: tag.kind,
          call: tag.call as Call,
          program: [],
          inverse: null,
        };
        target.push(block);
        stack.push({ block, tail: block, target: block.program, links: 1 });
        nesting += 1;
        target = block.program;
        break;
      }
      case 'else': {
        const frame = stack[stack.length - 1];
        if (!frame) {
          problems.push({ tag, reason: '{{else}} outside a block' });
          break;
        }
        if (frame.tail.inverse !== null) {
          problems.push({ tag, reason: 'a second {{else}} in one block' });
          break;
        }
        if (tag.call) {
          // {{else if y}}: a block nested in the inverse, closed by the opener's {{/…}}
          const chained: BlockNode = { type: 'block', tag, kind: 'open', call: tag.call, program: [], inverse: null };
          frame.tail.inverse = [chained];
          frame.tail = chained;
          frame.target = chained.program;
          frame.links += 1;
          nesting += 1;
        } else {
          frame.tail.inverse = [];
          frame.target = frame.tail.inverse;
        }
        target = frame.target;
        break;
      }
      case 'close': {
        const frame = stack.pop();
        if (!frame) {
          problems.push({ tag, reason: `{{/${tag.text}}} closes nothing` });
          break;
        }
        nesting -= frame.links;
        const opened =
          frame.block.kind === 'decorator-block' ? headName(frame.block.call) : closeName(frame.block.call);
        if (opened !== tag.text)
          problems.push({ tag, reason: `{{/${tag.text}}} does not match ${frame.block.tag.source}` });
        target = stack.length ? stack[stack.length - 1].target : root;
        break;
      }
      case 'decorator':
        problems.push({ tag, reason: 'decorators are not supported' });
        break;
      case 'raw':
        problems.push({ tag, reason: `raw block "${tag.text}" needs a custom helper` });
        break;
      case 'error':
        problems.push({ tag, reason: `template syntax error: ${tag.text}` });
        break;
    }
  }
  for (const frame of stack)
    problems.push({ tag: frame.block.tag, reason: `${frame.block.tag.source} is never closed` });
  return root;
}

/** Inline partial definitions (`{{#*inline "name"}}…{{/inline}}`) anywhere in one part. */
function collectPartials(nodes: Node[], into: Map<string, Node[]>): Map<string, Node[]> {
  for (const node of nodes) {
    if (node.type !== 'block') continue;
    if (node.kind === 'decorator-block' && headName(node.call) === 'inline') {
      const name = node.call.params[0];
      if (name && (name.type === 'literal' || name.type === 'path'))
        into.set(String(name.type === 'literal' ? name.value : name.original), node.program);
    }
    collectPartials(node.program, into);
    if (node.inverse) collectPartials(node.inverse, into);
  }
  return into;
}

/* ------------------------------------------------------------------ walk */

interface Scope {
  /** How many context changes (`#each`, `#with`, sections, partial contexts) lie between here and the root data. */
  depth: number;
  /** Inside a section that may not render (`#if`, `else`, …). */
  conditional: boolean;
  /** Keys a partial's hash parameters put over the context (`{{> p title="x"}}`). */
  shadow?: ReadonlySet<string>;
}

/** Upper bound on nodes visited through partial expansion per part (guards against exponential nesting). */
const EXPANSION_BUDGET = 10_000;

function displayName(path: string[]): string {
  return path
    .map((seg, i) => (/^[A-Za-z0-9_$-]+$/.test(seg) ? (i ? `.${seg}` : seg) : i ? `.[${seg}]` : `[${seg}]`))
    .join('');
}

function shorten(source: string): string {
  return source.length <= 80 ? source : `${source.slice(0, 77)}...`;
}

/**
 * Parses the Subject, Text and Html of a template once and lists the root-data variables they use.
 * `inline: true` (a request's `TemplateContent`) reports every block, partial, helper or decorator as unsupported,
 * since SES renders inline templates with simple substitutions only; the variables are still worked out with the
 * stored-template rules. `inline: false` reports only what SES cannot render at all (syntax errors, custom
 * helpers, partials not defined inline in the same part, decorators other than `inline`, raw blocks).
 */
export function templateVariables(content: EmailTemplateContent, options: { inline: boolean }): TemplateVariables {
  const byName = new Map<string, VariableRef>();
  const unsupported: UnsupportedConstruct[] = [];
  const seenProblems = new Set<string>();

  for (const part of TEMPLATE_PARTS) {
    const source = content[part];
    if (typeof source !== 'string' || !source.includes('{{')) continue;
    const report = (tag: Tag, reason: string) => {
      const construct = shorten(tag.source);
      const key = `${part}\0${construct}\0${reason}`;
      if (seenProblems.has(key)) return;
      seenProblems.add(key);
      unsupported.push({ construct, part, reason });
    };
    const inlineOnly = (tag: Tag, what: string) => {
      if (options.inline) report(tag, `${what}; inline TemplateContent supports simple substitutions only`);
    };
    const addRef = (path: PathExpr, scope: Scope, required: boolean) => {
      const rooted = rootPath(path, scope);
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

    const problems: Problem[] = [];
    const tree = buildTree(scanTags(source), problems);
    for (const p of problems) report(p.tag, p.reason);
    const partials = collectPartials(tree, new Map());
    let budget = EXPANSION_BUDGET;
    const expanding: string[] = [];

    /** Arguments of helpers and subexpressions: their variables are read but never required. */
    const walkArgs = (tag: Tag, params: Param[], hash: Call['hash'], scope: Scope) => {
      for (const p of [...params, ...hash.map((h) => h.value)]) {
        if (p.type === 'path') addRef(p, scope, false);
        else if (p.type === 'sexpr') walkHelper(tag, p.call, scope);
      }
    };
    const walkHelper = (tag: Tag, call: Call, scope: Scope) => {
      const name = headName(call) ?? (call.head.type === 'path' ? call.head.original : '(…)');
      if (options.inline) inlineOnly(tag, `helper "${name}"`);
      else if (!BUILTIN_HELPERS.has(name)) {
        report(tag, `helper "${name}" is not a Handlebars built-in usable here (SES cannot register custom helpers)`);
      }
      walkArgs(tag, call.params, call.hash, scope);
    };

    const walk = (nodes: Node[], scope: Scope) => {
      for (const node of nodes) {
        if (node.type === 'mustache') walkMustache(node, scope);
        else if (node.type === 'partial') walkPartial(node.tag, node.call, scope, false);
        else walkBlock(node, scope);
      }
    };

    const walkMustache = (node: { tag: Tag; call: Call }, scope: Scope) => {
      const { call, tag } = node;
      const name = headName(call);
      const isHelper =
        call.params.length > 0 ||
        call.hash.length > 0 ||
        call.head.type === 'sexpr' ||
        (name !== undefined && BUILTIN_HELPERS.has(name) && call.head.type === 'path');
      if (isHelper) return walkHelper(tag, call, scope);
      if (call.head.type === 'path') addRef(call.head, scope, true);
    };

    const walkBlock = (node: BlockNode, scope: Scope) => {
      const { call, tag } = node;
      const name = headName(call);
      const inner: Scope = { depth: scope.depth + 1, conditional: true };
      const same: Scope = { ...scope, conditional: true };
      switch (node.kind) {
        case 'decorator-block':
          if (name === 'inline') inlineOnly(tag, 'inline partial definition');
          else report(tag, `decorator "${name ?? '?'}" is not supported`);
          return; // inline partials are walked where they are used
        case 'inverse-open':
          inlineOnly(tag, `inverted section "^${closeName(call)}"`);
          if (call.head.type === 'path') addRef(call.head, scope, false);
          walkArgs(tag, call.params, call.hash, scope);
          walk(node.program, same);
          if (node.inverse) walk(node.inverse, inner);
          return;
        case 'partial-block': {
          const partialName = partialNameOf(call);
          const defined = partialName !== undefined && partials.has(partialName);
          inlineOnly(tag, `partial block "${closeName(call)}"`);
          if (defined) walkPartial(tag, call, scope, true);
          // rendered in place of an undefined partial, or as {{> @partial-block}} inside a defined one
          walk(node.program, defined ? same : scope);
          return;
        }
        case 'open':
          break;
      }
      inlineOnly(tag, `block helper "#${name ?? closeName(call)}"`);
      const subject = call.params[0];
      if (name === 'if' || name === 'unless') {
        walkArgs(tag, call.params, call.hash, scope);
        walk(node.program, same);
      } else if (name === 'each' || name === 'with') {
        if (subject?.type === 'path') addRef(subject, scope, true);
        walkArgs(tag, call.params.slice(subject?.type === 'path' ? 1 : 0), call.hash, scope);
        walk(node.program, inner);
      } else if (
        call.params.length === 0 &&
        call.hash.length === 0 &&
        call.head.type === 'path' &&
        !(name && BUILTIN_HELPERS.has(name))
      ) {
        // {{#section}}…{{/section}}: rendered when truthy, iterated when a list, with the value as context
        addRef(call.head, scope, false);
        walk(node.program, inner);
      } else {
        if (!options.inline)
          report(
            tag,
            `block helper "#${name ?? closeName(call)}" is not a Handlebars built-in (SES cannot register custom helpers)`,
          );
        walkArgs(tag, call.params, call.hash, scope);
        walk(node.program, inner);
      }
      if (node.inverse) walk(node.inverse, same);
    };

    /** `{{> name context? key=value…}}`, or a `{{#> name}}` block whose partial is defined (`block`). */
    const walkPartial = (tag: Tag, call: Call, scope: Scope, block: boolean) => {
      if (!block) inlineOnly(tag, `partial "${closeName(call)}"`);
      const name = partialNameOf(call);
      if (name === undefined) {
        if (!options.inline) report(tag, 'dynamic partials cannot be checked');
        if (call.head.type === 'sexpr') walkHelper(tag, call.head.call, scope);
        return;
      }
      if (name === '@partial-block') return;
      const body = partials.get(name);
      if (!body) {
        if (!options.inline && !block)
          report(tag, `partial "${name}" is not defined in this part (SES has no registered partials)`);
        return;
      }
      const context = call.params[0];
      walkArgs(tag, call.params.slice(context?.type === 'path' ? 1 : 0), call.hash, scope);
      if (expanding.includes(name)) return; // recursive partial: its variables are already counted
      if (budget <= 0) {
        report(tag, 'partials nest too deeply to be checked');
        return;
      }
      budget -= body.length + 1;
      expanding.push(name);
      if (context?.type === 'path') {
        addRef(context, scope, true);
        walk(body, { depth: scope.depth + 1, conditional: scope.conditional });
      } else if (context) {
        walk(body, { depth: scope.depth + 1, conditional: scope.conditional });
      } else {
        const keys = call.hash.map((h) => h.key);
        const shadow = keys.length ? new Set([...(scope.shadow ?? []), ...keys]) : scope.shadow;
        walk(body, { ...scope, shadow });
      }
      expanding.pop();
    };

    walk(tree, { depth: 0, conditional: false });
  }
  return { variables: [...byName.values()], unsupported };
}

function partialNameOf(call: Call): string | undefined {
  const head = call.head;
  if (head.type === 'literal') return head.value === undefined || head.value === null ? undefined : String(head.value);
  if (head.type === 'path') return head.original;
  return undefined;
}

/** The path from the root of the data a reference reads, or null when it reads something else. */
function rootPath(path: PathExpr, scope: Scope): string[] | null {
  let parts: string[];
  if (path.data) {
    // @root.x reads the root; @index, @key, @first, @last and @../index are iteration data
    if (path.up !== 0 || path.parts[0] !== 'root') return null;
    parts = path.parts.slice(1);
  } else if (path.up > 0) {
    if (scope.depth - path.up > 0) return null;
    parts = path.parts;
  } else {
    if (scope.depth > 0) return null;
    if (scope.shadow && path.parts.length && scope.shadow.has(path.parts[0])) return null;
    parts = path.parts;
  }
  return parts.length ? parts : null;
}

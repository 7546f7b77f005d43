// parseTemplatePart(): one template part's Handlebars syntax tree from @handlebars/parser, its work bounded beforehand.
import * as handlebarsParser from '@handlebars/parser';

/* ------------------------------------------------------------------ the syntax tree (what the walk reads of it) */

export interface Position {
  /** 1-based. */
  line: number;
  /** 0-based, in UTF-16 units. */
  column: number;
}
export interface Loc {
  start: Position;
  end: Position;
}
export interface PathNode {
  type: 'PathExpression';
  data: boolean;
  /** How many `../` lead the path. */
  depth: number;
  /** Segments after `this`/`../`; a subexpression first in `(a).b` (not Handlebars 4 syntax). */
  parts: (string | SubExpressionNode)[];
  original: string;
  loc: Loc;
}
export interface LiteralNode {
  type: 'StringLiteral' | 'NumberLiteral' | 'BooleanLiteral' | 'UndefinedLiteral' | 'NullLiteral';
  value: unknown;
  original: unknown;
  loc: Loc;
}
export interface HashNode {
  type: 'Hash';
  pairs: { key: string; value: ExpressionNode; loc: Loc }[];
  loc: Loc;
}
export interface SubExpressionNode {
  type: 'SubExpression';
  path: ExpressionNode;
  params: ExpressionNode[];
  hash?: HashNode;
  loc: Loc;
}
/** `{{a=1}}`, `(a=1)`: @handlebars/parser 2.2 syntax that Handlebars 4 (and so SES) does not have. */
export interface HashLiteralNode {
  type: 'HashLiteral';
  loc: Loc;
}
export type ExpressionNode = PathNode | LiteralNode | SubExpressionNode | HashLiteralNode;

export interface ProgramNode {
  type: 'Program';
  body: StatementNode[];
}
/** `{{x}}`, `{{{x}}}`, `{{helper a b=c}}`; `Decorator` for `{{* d}}`. */
export interface MustacheNode {
  type: 'MustacheStatement' | 'Decorator';
  path: ExpressionNode;
  params: ExpressionNode[];
  hash?: HashNode;
  loc: Loc;
}
/** `{{#x}}…{{else}}…{{/x}}`, `{{^x}}…{{/x}}` (its body is `inverse`), `{{{{raw}}}}…{{{{/raw}}}}`; `DecoratorBlock` for `{{#* d}}`. */
export interface BlockNode {
  type: 'BlockStatement' | 'DecoratorBlock';
  path: ExpressionNode;
  params: ExpressionNode[];
  hash?: HashNode;
  program?: ProgramNode;
  inverse?: ProgramNode;
  loc: Loc;
}
export interface PartialNode {
  type: 'PartialStatement';
  name: ExpressionNode;
  params: ExpressionNode[];
  hash?: HashNode;
  loc: Loc;
}
export interface PartialBlockNode {
  type: 'PartialBlockStatement';
  name: ExpressionNode;
  params: ExpressionNode[];
  hash?: HashNode;
  program: ProgramNode;
  loc: Loc;
}
export type StatementNode =
  | MustacheNode
  | BlockNode
  | PartialNode
  | PartialBlockNode
  | { type: 'ContentStatement' | 'CommentStatement'; loc: Loc };

/** The parts of the library used here; its bundled types do not declare the lexer. */
interface Lexer {
  setInput(input: string, yy: object): Lexer;
  /** The next token's name, or 1 / 'EOF' at the end. */
  lex(): string | number;
  /** Everything matched so far, and the last token's own text. */
  matched: string;
  match: string;
  conditionStack: string[];
}
const library = handlebarsParser as unknown as {
  /** `terminals_`: token number → name (the lexer returns numbers). */
  parser: { lexer: Lexer; terminals_: Record<number, string> };
  parseWithoutProcessing(input: string): ProgramNode;
};

/* ------------------------------------------------------------------ limits */

export interface ParseBudget {
  /** Tokens still allowed, for all the template's parts together. */
  tokens: number;
}

/**
 * How far the render check reads a template. @handlebars/parser (a jison LR parser) copies its whole stack on every
 * reduction, so its time is tokens × nesting depth: both are capped here before it runs. The lexer pass that counts
 * them is linear in the text.
 */
export const PARSE_LIMITS = {
  /** Subject, Text and Html together, in characters. */
  maxChars: 1_048_576,
  /** Handlebars tokens (tag openers and closers, names, parameters, runs of text) in all parts together. */
  maxTokens: 4_000,
  /** Blocks (with their `{{else if}}` links), raw blocks and subexpressions open at once; partials, when expanded. */
  maxNesting: 100,
} as const;

/** Why a part could not be read: a syntax error, or a limit of the check (`limit: true`). */
export interface PartProblem {
  /** Where in the part (UTF-16 offset). */
  offset: number;
  reason: string;
  limit: boolean;
}

export type ParsedPart = { program: ProgramNode; problem?: undefined } | { program?: undefined; problem: PartProblem };

/* ------------------------------------------------------------------ source positions */

/** Offsets of the parser's line/column positions (lines end at `\r\n`, `\r` or `\n`, as its lexer counts them). */
export function positionsOf(text: string): (position: Position) => number {
  let starts: number[] | undefined;
  return ({ line, column }) => {
    if (!starts) {
      starts = [0];
      const breaks = /\r\n?|\n/g;
      while (breaks.exec(text)) starts.push(breaks.lastIndex);
    }
    const start = starts[Math.min(Math.max(line, 1), starts.length) - 1];
    return Math.min(start + column, text.length);
  };
}

/** The tag at `offset` as written (to its `}}`), else the text there: one line, at most 80 characters. */
export function excerpt(text: string, offset: number): string {
  let end = Math.min(text.length, offset + 80);
  let whole = end === text.length;
  if (text.startsWith('{{', offset)) {
    const closer = text.startsWith('{{{{', offset) ? '}}}}' : text.startsWith('{{{', offset) ? '}}}' : '}}';
    const close = text.indexOf(closer, offset + 2);
    if (close >= 0 && close + closer.length <= end) [end, whole] = [close + closer.length, true];
  }
  const [line] = text.slice(offset, end).split(/\r|\n/);
  return whole || line.length < end - offset ? line : `${line.slice(0, 77)}...`;
}

/* ------------------------------------------------------------------ the lexer pass */

interface Level {
  kind: 'block' | 'raw' | 'sexpr';
  start: number;
  /** A block with `{{else if}}` links nests one deeper per link until its `{{/…}}`. */
  links: number;
}

interface LexOutcome {
  problem?: PartProblem;
  /** Blocks still open at the end (innermost last). */
  open: Level[];
}

const OPENS_BLOCK = new Set(['OPEN_BLOCK', 'OPEN_INVERSE', 'OPEN_PARTIAL_BLOCK', 'OPEN_RAW_BLOCK']);

/** Runs the parser's own lexer over `text`, counting tokens and nesting; stops at the first limit or bad token. */
function lexPass(text: string, budget: ParseBudget): LexOutcome {
  const lexer = Object.create(library.parser.lexer) as Lexer;
  lexer.setInput(text, { syntax: { square: 'string' } });
  const open: Level[] = [];
  let depth = 0;
  for (;;) {
    let next: string | number;
    try {
      next = lexer.lex();
    } catch {
      return { problem: lexicalProblem(text, lexer, open), open };
    }
    const token = typeof next === 'number' ? library.parser.terminals_[next] : next;
    if (token === undefined || token === 'EOF' || token === 'INVALID') return { open };
    const start = lexer.matched.length - lexer.match.length;
    budget.tokens -= 1;
    if (budget.tokens < 0) {
      const reason = `more than ${PARSE_LIMITS.maxTokens.toLocaleString('en-US')} Handlebars tokens (tags, their parameters and the text between them) in Subject, Text and Html together`;
      return { problem: { offset: start, reason, limit: true }, open };
    }
    if (OPENS_BLOCK.has(token)) {
      open.push({ kind: token === 'OPEN_RAW_BLOCK' ? 'raw' : 'block', start, links: 1 });
      depth += 1;
    } else if (token === 'OPEN_SEXPR') {
      open.push({ kind: 'sexpr', start, links: 1 });
      depth += 1;
    } else if (token === 'CLOSE_SEXPR' || token === 'END_RAW_BLOCK' || token === 'OPEN_ENDBLOCK') {
      const level = open.pop();
      if (level) depth -= level.links;
    } else if (token === 'OPEN_INVERSE_CHAIN') {
      const top = open[open.length - 1];
      if (top) {
        top.links += 1;
        depth += 1;
      }
    } else if (token === 'PRIVATE_SEP') {
      const reason = `template syntax error${at(text, start)}: ".#" path segments are not Handlebars 4 syntax`;
      return { problem: { offset: start, reason, limit: false }, open };
    }
    if (depth > PARSE_LIMITS.maxNesting) {
      const reason = `blocks and subexpressions nested more than ${PARSE_LIMITS.maxNesting} deep`;
      return { problem: { offset: start, reason, limit: true }, open };
    }
  }
}

function innermost(open: Level[], kind: Level['kind']): Level | undefined {
  for (let i = open.length - 1; i >= 0; i--) if (open[i].kind === kind) return open[i];
  return undefined;
}

function lexicalProblem(text: string, lexer: Lexer, open: Level[]): PartProblem {
  const offset = Math.min(lexer.matched.length, text.length);
  const state = lexer.conditionStack[lexer.conditionStack.length - 1];
  const raw = innermost(open, 'raw');
  const what =
    state === 'com'
      ? 'unterminated {{!-- comment: no closing --}}'
      : state === 'raw' && raw
        ? `${excerpt(text, raw.start)} is never closed`
        : state === 'escl'
          ? 'unterminated [ segment: no closing ]'
          : 'a NUL character (U+0000) cannot appear in a template';
  return { offset, reason: `template syntax error${at(text, offset)}: ${what}`, limit: false };
}

/* ------------------------------------------------------------------ parse */

/**
 * Parses one part with @handlebars/parser, the Handlebars project's parser (Handlebars 4 ships an older copy of its
 * grammar; what 2.x added is refused: `.#` here, the rest by `templateVariables`), after a pass of its lexer that
 * charges every token to `budget` and refuses nesting deeper than `PARSE_LIMITS.maxNesting`: the parse that follows
 * costs at most budget × nesting. Syntax errors come back as a problem with a readable reason and where it is.
 */
export function parseTemplatePart(text: string, budget: ParseBudget): ParsedPart {
  const lexed = lexPass(text, budget);
  if (lexed.problem) return { problem: lexed.problem };
  try {
    return { program: library.parseWithoutProcessing(text) };
  } catch (err) {
    return { problem: syntaxProblem(text, err, lexed) };
  }
}

interface JisonHash {
  token?: string | null;
  text?: string;
  expected?: string[];
  loc?: { last_line: number; last_column: number };
}

function at(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const lines = before.split(/\r\n?|\n/);
  return ` at line ${lines.length}, column ${lines[lines.length - 1].length + 1}`;
}

/** A parser error as `template syntax error at line L, column C: what`, with `what` in the template's own terms. */
function syntaxProblem(text: string, err: unknown, lexed: LexOutcome): PartProblem {
  const offsetAt = positionsOf(text);
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    hash?: JisonHash;
    message?: unknown;
    lineNumber?: number;
    column?: number;
  };
  const message = typeof e.message === 'string' ? e.message : String(err);
  let offset = 0;
  let what: string;
  if (e.hash) {
    const { token, expected = [], loc } = e.hash;
    // the location is the last token read before the offending one; that one starts after any blanks
    offset = loc ? offsetAt({ line: loc.last_line, column: loc.last_column }) : 0;
    while (offset < text.length && /\s/.test(text[offset]) && token !== 'CONTENT') offset += 1;
    const inTag = expected.some((name) => /^'CLOSE/.test(name));
    const inBlock = expected.includes("'OPEN_ENDBLOCK'");
    // the tag left open is the last one begun before the offending token
    const openTag = Math.max(0, text.lastIndexOf('{{', offset - 1));
    const unterminated = `unterminated ${excerpt(text, openTag)}: no closing }}`;
    if (token === 'EOF') {
      const block = innermost(lexed.open, 'block');
      what = inBlock && block ? `${excerpt(text, block.start)} is never closed` : unterminated;
      offset = inBlock && block ? block.start : openTag;
    } else if (token === 'INVALID') {
      const closed = text.includes('}}', offset);
      what = closed ? `unexpected "${text.slice(offset, offset + 1)}"` : unterminated;
      if (!closed) offset = openTag;
    } else if (inTag) {
      what = `${unterminated.replace(/: no closing \}\}$/, '')}: a new tag starts before its }}`;
      offset = openTag;
    } else if (token === 'OPEN_ENDBLOCK') {
      what = `${excerpt(text, offset)} closes nothing`;
    } else if (token === 'INVERSE' || token === 'OPEN_INVERSE_CHAIN') {
      what = inBlock
        ? `${excerpt(text, offset)} is a second {{else}} in one block (or an {{else}} in a partial block)`
        : `${excerpt(text, offset)} outside a block`;
    } else {
      what = `unexpected ${JSON.stringify(excerpt(text, offset).slice(0, 20))}`;
    }
  } else {
    // Handlebars' Exception: "if doesn't match each - 1:3", "Invalid path: a/.. - 1:2", …
    if (typeof e.lineNumber === 'number' && typeof e.column === 'number') {
      offset = offsetAt({ line: e.lineNumber, column: e.column });
    }
    const bare = message.split('\n')[0].replace(/ - \d+:\d+$/, '');
    const mismatch = /^(.*) doesn't match (.*)$/s.exec(bare);
    if (mismatch) {
      offset = Math.max(0, text.lastIndexOf('{{', offset));
      what = `{{/${mismatch[2].slice(0, 60)}}} does not match ${excerpt(text, offset)}`;
    } else if (bare.startsWith('Invalid path: ')) {
      what = `invalid path ${JSON.stringify(bare.slice('Invalid path: '.length, 80))}`;
    } else if (bare.startsWith('Unexpected inverse block on decorator')) {
      what = 'a decorator block such as {{#*inline}} cannot have an {{else}}';
    } else {
      what = bare.slice(0, 120);
    }
  }
  return { offset, reason: `template syntax error${at(text, offset)}: ${what}`, limit: false };
}

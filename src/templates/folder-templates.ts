// resolveTemplate hook over a folder of template files, read on first use and cached.
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { EmailTemplateContent, ResolveTemplateHook } from '../types.js';
import { inlineTemplate, requestedTemplateName } from './template-source.js';

export interface FolderTemplatesOptions {
  /** Keep templates in memory once read. Default true; `false` re-reads the files on every request (development). */
  cache?: boolean;
}

/** Template names as SES allows them: no dots, slashes or backslashes, so a name can never leave the folder. */
const SAFE_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const JSON_FIELDS = new Set(['Subject', 'Text', 'Html']);

/**
 * `resolveTemplate: folderTemplates('./templates')`. One template per name, in either layout:
 *
 * ```
 * templates/
 *   welcome.json           {"Subject": "Hi {{name}}", "Text": "…", "Html": "…"}   (Text and/or Html)
 *   receipt/subject.txt    the subject, one line (a trailing newline is ignored)
 *   receipt/text.txt       the text part  ┐ at least one of the two
 *   receipt/html.html      the HTML part  ┘
 * ```
 *
 * `<name>.json` wins when both exist. A request naming a template (by `TemplateName` or `TemplateArn`) gets its
 * content inline, keeping the request's data, headers and attachments; an unknown or unsafe name gives `null`
 * (→ `TEMPLATE_NOT_FOUND`); a request that already carries `TemplateContent` passes through unchanged.
 * A malformed template file throws (the router answers `INTERNAL_ERROR` and logs the message naming the file).
 * Only found templates are cached, so requests for made-up names cannot grow the cache.
 * A `dir` that is not a folder is a `TypeError` at once, when the router is built (not a 422 on every request).
 */
export function folderTemplates(dir: string, options: FolderTemplatesOptions = {}): ResolveTemplateHook {
  const root = resolve(dir);
  const found = statSync(root, { throwIfNoEntry: false });
  if (!found?.isDirectory()) {
    throw new TypeError(
      `express-bulk-email: folderTemplates(${JSON.stringify(dir)}): ${root} ${found ? 'is not a folder' : 'does not exist'} (a relative path is resolved against the working directory, ${process.cwd()}); pass the folder that holds the templates, best as an absolute path built from import.meta.url or __dirname`,
    );
  }
  const useCache = options.cache ?? true;
  const cache = new Map<string, Promise<EmailTemplateContent | null>>();

  return async (template) => {
    if (template.TemplateContent !== undefined) return template;
    const name = requestedTemplateName(template);
    if (name === undefined || !SAFE_NAME.test(name)) return null;
    let content = useCache ? cache.get(name) : undefined;
    if (!content) {
      content = readTemplate(root, name);
      if (useCache) {
        cache.set(name, content);
        content.then(
          (found) => found || cache.delete(name),
          () => cache.delete(name),
        );
      }
    }
    const found = await content;
    return found ? inlineTemplate(template, found) : null;
  };
}

async function readTemplate(root: string, name: string): Promise<EmailTemplateContent | null> {
  const jsonFile = join(root, `${name}.json`);
  const json = await readOptional(jsonFile);
  if (json !== undefined) return parseJsonTemplate(json, jsonFile);

  const folder = join(root, name);
  const [subject, text, html] = await Promise.all(
    ['subject.txt', 'text.txt', 'html.html'].map((file) => readOptional(join(folder, file))),
  );
  if (subject === undefined && text === undefined && html === undefined) return null;
  if (subject === undefined) throw new Error(`Template folder ${folder} has no subject.txt`);
  if (text === undefined && html === undefined)
    throw new Error(`Template folder ${folder} needs text.txt or html.html`);
  return templateContent(subject.replace(/\r?\n$/, ''), text, html, join(folder, 'subject.txt'));
}

function parseJsonTemplate(source: string, file: string): EmailTemplateContent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch (err) {
    throw new Error(`Template file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`Template file ${file} must hold a JSON object {Subject, Text?, Html?}`);
  }
  const fields = parsed as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !JSON_FIELDS.has(key));
  if (unknown.length) throw new Error(`Template file ${file} has unknown fields: ${unknown.join(', ')}`);
  const { Subject, Text, Html } = fields;
  if (typeof Subject !== 'string') throw new Error(`Template file ${file} needs a string "Subject"`);
  for (const [key, value] of [
    ['Text', Text],
    ['Html', Html],
  ] as const) {
    if (value !== undefined && typeof value !== 'string')
      throw new Error(`Template file ${file}: "${key}" must be a string`);
  }
  if (Text === undefined && Html === undefined) throw new Error(`Template file ${file} needs "Text" or "Html"`);
  return templateContent(Subject, Text as string | undefined, Html as string | undefined, file);
}

function templateContent(
  subject: string,
  text: string | undefined,
  html: string | undefined,
  file: string,
): EmailTemplateContent {
  if (/[\r\n]/.test(subject)) throw new Error(`Template ${file}: the subject must be one line`);
  return {
    Subject: subject,
    ...(text === undefined ? {} : { Text: text }),
    ...(html === undefined ? {} : { Html: html }),
  };
}

/** The file's text, or `undefined` when it does not exist. */
async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

// The one JSON Schema (draft 2020-12) of the SES v2 SendBulkEmail body: ajv runs it, OpenAPI embeds it.

/** A JSON Schema object (draft 2020-12), as plain JSON data. */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** What `sendBulkEmailSchema()` returns: a JSON Schema whose entry item schema can be reached by name. */
export interface SendBulkEmailSchema extends JsonSchema {
  readonly properties: {
    readonly [field: string]: JsonSchema;
    readonly BulkEmailEntries: JsonSchema & {
      readonly maxItems: number;
      readonly items: JsonSchema;
    };
  };
}

export interface SendBulkEmailSchemaOptions {
  /** Most entries one request may hold. Default 10,000. */
  maxEntries?: number;
}

export const DEFAULT_MAX_ENTRIES = 10_000;
/** SES limits from the service model (reference §2, §6). */
export const TEMPLATE_DATA_MAX_LENGTH = 262_144;
export const MAX_HEADERS = 15;
export const MAX_RECIPIENTS = 50;
export const HEADER_NAME_MAX = 126;
export const HEADER_VALUE_MAX = 995;
export const HEADER_LINE_MAX = 996;
/** Package bound for lists SES sets no count for (tags, reply-to addresses, attachments), so work stays bounded. */
export const MAX_LIST_ITEMS = 50;

/**
 * One address as ajv-formats' `email` format checks it: dot-atom local part of 7-bit ASCII, domain of DNS labels
 * (non-ASCII domains must arrive as Punycode, as SES requires).
 */
const ADDRESS =
  "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\\.)+[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?";
/**
 * An RFC 5322 display name: atoms (plus '.' and spaces) and quoted strings, nothing else. An unquoted ',' ';' ':' '@'
 * '<' or '>' is refused, so `a@x.com, Me <me@y.com>` cannot smuggle a second From mailbox past the sender policy.
 * Non-ASCII names must be RFC 2047 encoded words (`=?UTF-8?B?…?=`), which are atoms.
 */
const DISPLAY_NAME = '(?:[A-Za-z0-9!#$%&\'*+/=?^_`{|}~. -]|"(?:[ !#-\\[\\]-~]|\\\\[ -~])*")*';
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';

/** Every `pattern` the schema uses, with the message a failure gets. Characters only: lengths are separate keywords. */
export const PATTERNS = {
  /** Printable ASCII without ':' and space (model: `^[!-9;-@A-~]+$`). */
  headerName: {
    pattern: '^[!-9;-@A-~]*$',
    message: "may only contain printable ASCII characters other than ':' and space",
  },
  /** Printable ASCII including space: no CR, LF, tab or other control characters. */
  printable: {
    pattern: '^[ -~]*$',
    message: 'may only contain printable ASCII characters',
  },
  /** Printable ASCII without space (ARNs, content ids). */
  visible: {
    pattern: '^[!-~]*$',
    message: 'may only contain printable ASCII characters other than space',
  },
  /** Any text on one line: no CR, LF or other control characters (non-ASCII is fine; SES encodes it). */
  oneLine: {
    pattern: '^[^\\u0000-\\u001F\\u007F]*$',
    message: 'must not contain CR, LF or other control characters',
  },
  /** Tag names and values, configuration set and tenant names. */
  token: {
    pattern: '^[A-Za-z0-9_-]*$',
    message: "may only contain letters, digits, '_' and '-'",
  },
  /** `user@example.com` or `Display Name <user@example.com>`. */
  mailbox: {
    pattern: `^(?:${ADDRESS}|${DISPLAY_NAME}<${ADDRESS}>)$`,
    message:
      'must be an email address, optionally with a display name: Name <user@example.com> ' +
      '(quote a name that holds , ; : @ or other specials: "Doe, Jane" <user@example.com>)',
  },
  /** DNS host label(s), as the SDK's endpoint rules check `EndpointId`. */
  hostLabel: {
    pattern: `^${LABEL}(?:\\.${LABEL})*$`,
    message: "must be a DNS host label (letters, digits and '-', not starting or ending with '-')",
  },
} as const;

const text = (
  pattern: { pattern: string },
  min: number | undefined,
  max: number | undefined,
  description?: string,
) => ({
  type: 'string',
  ...(min === undefined ? {} : { minLength: min }),
  ...(max === undefined ? {} : { maxLength: max }),
  pattern: pattern.pattern,
  ...(description ? { description } : {}),
});

const strict = (properties: Record<string, JsonSchema>, required: string[] = [], description?: string) => ({
  type: 'object',
  ...(description ? { description } : {}),
  ...(required.length ? { required } : {}),
  properties,
  additionalProperties: false,
});

const list = (items: JsonSchema, maxItems: number, description: string) => ({
  type: 'array',
  maxItems,
  items,
  description,
});

/**
 * Builds the schema. Address rules (decided here, mirrored in the validator's messages):
 * - `FromEmailAddress` and `ReplyToAddresses` accept a display name (`Sender <a@b.com>`), as SES does;
 * - recipients (To/Cc/Bcc) and `FeedbackForwardingEmailAddress` must be plain addresses (`a@b.com`): they are
 *   counted, suppressed and matched against sender policies as addresses, so no display names there.
 * Every address, header, tag and name is limited to characters that cannot carry CR or LF (header injection).
 */
export function sendBulkEmailSchema(options: SendBulkEmailSchemaOptions = {}): SendBulkEmailSchema {
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new TypeError(`maxEntries must be a positive integer, got ${String(maxEntries)}`);
  }

  const plainAddress = {
    type: 'string',
    format: 'email',
    maxLength: 254,
    description: 'A plain address: user@example.com',
  };
  const mailbox = {
    ...text(PATTERNS.mailbox, undefined, 320),
    description: 'user@example.com or "Name <user@example.com>"',
  };
  const recipients = list(plainAddress, MAX_RECIPIENTS, 'To + Cc + Bcc together: 1 to 50 recipients per destination');
  const header = strict(
    {
      Name: text(PATTERNS.headerName, 1, HEADER_NAME_MAX),
      Value: text(PATTERNS.printable, 1, HEADER_VALUE_MAX, 'Name and value together at most 996 characters'),
    },
    ['Name', 'Value'],
  );
  const headers = list(header, MAX_HEADERS, 'At most 15 headers; names unique (case-insensitive)');
  const tag = strict({ Name: text(PATTERNS.token, 1, 256), Value: text(PATTERNS.token, 1, 256) }, ['Name', 'Value']);
  const tags = list(tag, MAX_LIST_ITEMS, 'Message tags (package bound: at most 50)');
  const templateData = {
    type: 'string',
    maxLength: TEMPLATE_DATA_MAX_LENGTH,
    contentMediaType: 'application/json',
    description: 'A JSON object serialized as a string',
  };
  const attachment = strict(
    {
      RawContent: {
        type: 'string',
        minLength: 1,
        contentEncoding: 'base64',
        description: 'The file, base64 encoded',
      },
      FileName: text(PATTERNS.oneLine, 1, 255),
      ContentDisposition: { type: 'string', enum: ['ATTACHMENT', 'INLINE'] },
      ContentDescription: text(PATTERNS.oneLine, undefined, 1000),
      ContentId: text(PATTERNS.visible, 1, 78),
      ContentTransferEncoding: {
        type: 'string',
        enum: ['BASE64', 'QUOTED_PRINTABLE', 'SEVEN_BIT'],
      },
      ContentType: text(PATTERNS.printable, 1, 78),
    },
    ['RawContent', 'FileName'],
  );
  const template = strict(
    {
      TemplateName: text(PATTERNS.oneLine, 1, 256, 'A stored template'),
      TemplateArn: text(PATTERNS.visible, 1, 2048, 'A stored template by ARN (…:template/<name>)'),
      TemplateContent: strict(
        {
          Subject: text(PATTERNS.oneLine, undefined, undefined),
          Text: { type: 'string' },
          Html: { type: 'string' },
        },
        [],
        'An inline template (simple {{variable}} substitutions only)',
      ),
      TemplateData: templateData,
      Headers: headers,
      Attachments: list(attachment, MAX_LIST_ITEMS, 'The same attachments for every entry (package bound: at most 50)'),
    },
    [],
    'Exactly one of TemplateName, TemplateArn or TemplateContent',
  );
  const tracking = { type: 'string', enum: ['ENABLED', 'DISABLED'] };
  const entry = strict(
    {
      Destination: strict(
        {
          ToAddresses: recipients,
          CcAddresses: recipients,
          BccAddresses: recipients,
        },
        [],
        'At least 1 and at most 50 recipients in total',
      ),
      ReplacementTags: tags,
      ReplacementEmailContent: strict({
        ReplacementTemplate: strict({ ReplacementTemplateData: templateData }),
      }),
      ReplacementHeaders: headers,
    },
    ['Destination'],
  );
  const identityArn = text(PATTERNS.visible, 1, 2048);

  const properties = {
    FromEmailAddress: mailbox,
    FromEmailAddressIdentityArn: identityArn,
    ReplyToAddresses: list(mailbox, MAX_LIST_ITEMS, 'Reply-To addresses (package bound: at most 50)'),
    FeedbackForwardingEmailAddress: plainAddress,
    FeedbackForwardingEmailAddressIdentityArn: identityArn,
    DefaultEmailTags: tags,
    DefaultContent: strict({ Template: template }, ['Template']),
    BulkEmailEntries: {
      type: 'array',
      minItems: 1,
      maxItems: maxEntries,
      items: entry,
    },
    ConfigurationSetName: text(PATTERNS.token, 1, 64),
    EndpointId: text(PATTERNS.hostLabel, undefined, 253),
    TenantName: text(PATTERNS.token, 1, 64),
    ConfigurationOverrides: strict({
      Tracking: strict({
        OpenTrackingEnabled: tracking,
        ClickTrackingEnabled: tracking,
      }),
    }),
  };
  return deepFreeze({
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'SendBulkEmailRequest',
    description: 'The JSON body of Amazon SES v2 SendBulkEmail, with SES field names and limits',
    type: 'object',
    required: ['FromEmailAddress', 'DefaultContent', 'BulkEmailEntries'],
    properties,
    additionalProperties: false,
  });
}

/** The schema is shared (validator, OpenAPI document, users): freeze it so no one can change what ajv compiled. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

// Builders for SendBulkEmail bodies used across the suites.
import type { SendBulkEmailRequest } from '../../src/types.js';

export interface BodyOptions {
  from?: string;
  domain?: string;
  cc?: boolean;
  template?: SendBulkEmailRequest['DefaultContent']['Template'];
}

/** `n` personalised single-recipient entries: user<i>@<domain>, subject "Hello User <i>". */
export function bulkBody(n: number, options: BodyOptions = {}): SendBulkEmailRequest {
  const domain = options.domain ?? 'example.com';
  return {
    FromEmailAddress: options.from ?? 'Sender <sender@example.com>',
    DefaultContent: {
      Template: options.template ?? {
        TemplateContent: {
          Subject: 'Hello {{name}}',
          Text: 'Hi {{name}}, your code is {{code}}.',
          Html: '<p>Hi {{name}}</p>',
        },
        TemplateData: JSON.stringify({ name: 'friend', code: 'none' }),
      },
    },
    BulkEmailEntries: Array.from({ length: n }, (_, i) => ({
      Destination: {
        ToAddresses: [`user${i}@${domain}`],
        ...(options.cc ? { CcAddresses: [`cc${i}@${domain}`] } : {}),
      },
      ReplacementEmailContent: {
        ReplacementTemplate: { ReplacementTemplateData: JSON.stringify({ name: `User ${i}`, code: `C${i}` }) },
      },
    })),
  };
}

// Type test (checked by `tsc`, and by test/unit/principal-type.test.ts): an app's own principal interface works.
import { type BulkEmailOptions, bulkEmail } from '../../src/index.js';

type Plan = 'free' | 'pro';
/** An app's user type: an interface with no index signature (issue 11, trap 4: TS2344 before). */
interface User {
  id: string;
  plan: Plan;
}

const users = new Map<string, User>();

export const options: BulkEmailOptions<User> = {
  authenticate: (req) => users.get(req.get('authorization') ?? '') ?? null,
  authorize: ({ principal }) => principal.plan === 'pro',
  senders: (principal) => (principal.plan === 'pro' ? null : ['@example.com']),
  resources: (principal) => ({ templates: principal.plan === 'pro' ? '*' : ['welcome'] }),
};

export const router = bulkEmail<User>(options);

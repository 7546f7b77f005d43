// An Express app with the router mounted over a mocked SES client that accepts everything, for HTTP-level suites.
import { SESv2Client, SendBulkEmailCommand, GetAccountCommand } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import express from 'express';
import { bulkEmail, type BulkEmailOptions, type BulkEmailRouter, type Principal } from '../../src/index.js';

export interface HttpApp {
  app: express.Express;
  router: BulkEmailRouter;
  /** Every SendBulkEmail input the mocked SES received. */
  calls: { BulkEmailEntries?: unknown[] }[];
  /** The aws-sdk-client-mock behind the router's client, to script other commands. */
  mock: ReturnType<typeof mockClient>;
  close(): Promise<void>;
}

/** Principals come from the `x-user` header; options override anything; `script` may change the mock before the router reads the account. */
export function httpApp(
  options: Partial<BulkEmailOptions<Principal>> = {},
  script?: (mock: ReturnType<typeof mockClient>) => void,
): HttpApp {
  const ses = new SESv2Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const mock = mockClient(ses);
  const calls: HttpApp['calls'] = [];
  let n = 0;
  mock.on(SendBulkEmailCommand).callsFake((input) => {
    calls.push(input);
    return {
      BulkEmailEntryResults: input.BulkEmailEntries.map(() => ({ Status: 'SUCCESS', MessageId: `msg-${++n}` })),
    };
  });
  mock.on(GetAccountCommand).resolves({ SendQuota: { MaxSendRate: 1000, Max24HourSend: -1, SentLast24Hours: 0 } });
  script?.(mock);
  const router = bulkEmail<Principal>({
    ses,
    sendRate: 1000,
    authenticate: (req) => {
      const who = req.get('x-user');
      return who ? { id: who } : null;
    },
    ...options,
  });
  const app = express();
  app.use('/bulk-email', router);
  return {
    app,
    router,
    calls,
    mock,
    close: async () => {
      await router.close();
      mock.restore();
    },
  };
}

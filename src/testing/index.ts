// Entry point express-bulk-email/testing: the contract suites every Store, Queue (with its pacing) and webhook outbox passes.
export { describeFeedbackContract } from './feedback-contract.js';
export { describePacingContract } from './pacing-contract.js';
export { describeQueueContract } from './queue-contract.js';
export { describeStoreContract, jobRecord } from './store-contract.js';
export type { AsyncMatchers, Expect, Matchers, TestApi } from './test-api.js';
export { describeWebhookOutboxContract } from './webhook-outbox-contract.js';

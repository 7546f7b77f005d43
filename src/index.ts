// The public surface of express-bulk-email: explicit named re-exports only.
export { bulkEmail } from './bulk-email.js';
export type { BulkEmailRouter } from './bulk-email.js';
export { createWorker } from './worker.js';
export type { Worker, WorkerOptions } from './worker.js';
export { allowAnonymous } from './anonymous.js';
export {
  BulkEmailError,
  ERROR_STATUS,
  forbidden,
  isBulkEmailError,
  rateLimited,
  templateNotFound,
  validationError,
} from './errors.js';
export type { ErrorCode, ValidationDetail } from './errors.js';
export { memoryStore } from './stores/memory-store.js';
export { inProcessQueue } from './queues/in-process-queue.js';
export { folderTemplates, staticTemplates } from './templates/index.js';
export type * from './types.js';

// The public surface of express-bulk-email: explicit named re-exports only.
export { bulkEmail } from './bulk-email.js';
export type { BulkEmailRouter } from './bulk-email.js';
export type { IngestOutcome } from './events/delivery-feedback.js';
export type { ResumeOutcome } from './events/principal-guard.js';
export type { DeliveryState, MergeOutcome } from './events/delivery-state.js';
export type { GuardBucket, GuardCounts } from './events/reputation-guard.js';
export type { DeliveryDetail, DeliveryUpdate, SesEventType } from './events/ses-event.js';
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
// Every type in types.ts (a new one must be added here: test/unit/wire-types.test.ts checks), but the store's
// camelCase records, which are exported under store names so that they are not mistaken for HTTP answers.
export type {
  Attachment,
  AuthenticateHook,
  AuthorizeHook,
  BulkEmailEntry,
  BulkEmailEvent,
  BulkEmailOptions,
  CallConsumer,
  CallOutcome,
  ChunkTask,
  Clock,
  CreateJobOptions,
  Destination,
  EmailTemplateContent,
  EntryClaim,
  EntryError,
  EntryStatus,
  HookContext,
  IdempotencyClaim,
  IndexedEntry,
  JobContent,
  JobCounts,
  JobPayload,
  JobStatus,
  Logger,
  MessageHeader,
  MessageTag,
  Principal,
  PrincipalLimits,
  PrincipalStats,
  Queue,
  QueuedWork,
  QueueStats,
  RecordOutcome,
  ResolveTemplateHook,
  ResourceGrants,
  ResourceList,
  ResourcesHook,
  RetryOptions,
  SendBulkEmailRequest,
  SenderOptions,
  TelemetryOptions,
  SendersHook,
  SendRateSource,
  SendStats,
  SesEntryStatus,
  JobListPage,
  JobListPosition,
  JobListQuery,
  Store,
  StoredResponse,
  SuppressHook,
  TakenCall,
  Template,
  UnsubscribeOptions,
  ValidateHook,
  WeightHook,
  EventsOptions,
  GuardOptions,
  LeasedWebhookMessage,
  SnsEventsOptions,
  WebhookEndpoint,
  WebhookEventType,
  WebhookMessage,
  WebhookOptions,
  WebhookOutbox,
  DeliveryRecord,
  EntryBouncedEvent,
  EntryComplainedEvent,
  EntryDeliveryEvent,
  FeedbackStore,
  PrincipalPause,
  PrincipalPausedEvent,
  RecordResultsOptions,
  SentMessage,
  SuppressedAddress,
  SuppressionOptions,
  SuppressionReason,
} from './types.js';
export type {
  /** The store's record of a job (camelCase; not an HTTP answer: see JobView). */
  JobRecord as StoredJob,
  /** The store's record of one entry's outcome (camelCase; not an HTTP answer: see ResultView). */
  EntryResult as StoredResult,
} from './types.js';
// The HTTP answers, snake_case as on the wire.
export type {
  AcceptedJob,
  DeliveryDetailView,
  DeliveryStatus,
  DeliveryView,
  DryRunPlan,
  Envelope,
  ErrorBody,
  ErrorEnvelope,
  FailureView,
  InvalidEntry,
  JobStreamEvent,
  JobsPage,
  JobView,
  OperationAnswers,
  PlannedCall,
  ResponseData,
  ResultsPage,
  ResultView,
  SnsEventsView,
  SuccessEnvelope,
  SuppressionRemoved,
  SuppressionsPage,
  SuppressionView,
  Unsubscribed,
} from './wire-types.js';
export type { OpenApiDocument } from './validation/openapi.js';

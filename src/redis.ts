// Entry point express-bulk-email/redis: redisStore() and redisQueue() (bullmqQueue, its old name) — the only modules that load ioredis.
export { type BullmqQueueOptions, bullmqQueue } from './queues/bullmq-queue.js';
export { type RedisQueueOptions, redisQueue } from './queues/redis-queue.js';
export type { RedisConnection } from './stores/redis-connection.js';
export { type RedisStoreOptions, redisStore } from './stores/redis-store.js';

// Entry point express-bulk-email/redis: redisStore() and bullmqQueue() — the only modules that load ioredis and bullmq.
export { type BullmqQueueOptions, bullmqQueue } from './queues/bullmq-queue.js';
export { type RedisRateLimiterOptions, redisRateLimiter } from './queues/redis-rate-limiter.js';
export type { RedisConnection } from './stores/redis-connection.js';
export { type RedisStoreOptions, redisStore } from './stores/redis-store.js';

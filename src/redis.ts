// Entry point express-bulk-email/redis: redisStore() — the only module that loads ioredis.
export type { RedisConnection } from './stores/redis-connection.js';
export { type RedisStoreOptions, redisStore } from './stores/redis-store.js';

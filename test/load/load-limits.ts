// Numbers the load server and the load suite share (kept apart so that importing them starts no server).

/** Most jobs the server's store keeps; finished ones beyond it are dropped oldest first. The heap bound follows. */
export const MAX_JOBS = 5000;
/** Clients post as one of this many principals, in turn. */
export const PRINCIPALS = 20;

/**
 * Most sent messages (MessageId → entry links for delivery events) the store keeps: the kept jobs' own (3 entries
 * each). Its default, 100,000 (about 25 MB), would not fill within a run, so the heap would not plateau.
 */
export const MAX_MESSAGES = MAX_JOBS * 3;

// Numbers the load server and the load suite share (kept apart so that importing them starts no server).

/** Most jobs the server's store keeps; finished ones beyond it are dropped oldest first. The heap bound follows. */
export const MAX_JOBS = 5000;
/** Clients post as one of this many principals, in turn. */
export const PRINCIPALS = 20;

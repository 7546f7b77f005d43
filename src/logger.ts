// silentLogger: the Logger used where the app passes none; warnVisibly() for warnings that must be seen anyway.
import type { Logger } from './types.js';

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * A warning about the app's setup that must reach a person: through the app's logger, or on the console when the
 * app gave none (the default logger is silent).
 */
export function warnVisibly(logger: Logger, fields: { code: string } & Record<string, unknown>, message: string): void {
  if (logger === silentLogger) console.warn(`${message} [${fields.code}]`);
  else logger.warn(fields, message);
}

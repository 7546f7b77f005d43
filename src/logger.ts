// silentLogger: the Logger used where the app passes none.
import type { Logger } from './types.js';

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

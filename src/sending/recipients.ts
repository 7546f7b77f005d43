// countRecipients(): how many recipients one bulk entry has (To + Cc + Bcc), as SES counts them against the rate.
import type { BulkEmailEntry } from '../types.js';

export function countRecipients(entry: BulkEmailEntry): number {
  const d = entry.Destination ?? {};
  return (d.ToAddresses?.length ?? 0) + (d.CcAddresses?.length ?? 0) + (d.BccAddresses?.length ?? 0);
}

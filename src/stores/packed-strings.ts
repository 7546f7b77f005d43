// A per-index string column packed into one UTF-8 byte arena: ~len+5 bytes per string instead of a heap string each.

/** Strings by entry index. Writing an index twice keeps the newest value (the old bytes stay until `trim`). */
export interface PackedStrings {
  get(index: number): string | undefined;
  set(index: number, value: string): void;
  /** Shrinks the arena to what is used; call when the column will not grow any more. */
  trim(): void;
}

const LONG = 255; // a length byte of 255 means "stored in the overflow map"

export function packedStrings(size: number): PackedStrings {
  let starts: Uint32Array | undefined; // start offset + 1; 0 = no value
  let lengths: Uint8Array | undefined;
  let arena: Buffer | undefined;
  let used = 0;
  let overflow: Map<number, string> | undefined;

  const reserve = (bytes: number) => {
    if (arena && used + bytes <= arena.length) return;
    const wanted = Math.max(used + bytes, Math.ceil((arena?.length ?? 0) * 1.5), 1024);
    const next = Buffer.allocUnsafeSlow(wanted);
    if (arena) arena.copy(next, 0, 0, used);
    arena = next;
  };

  return {
    get(index) {
      if (!starts || !lengths || starts[index] === 0) return undefined;
      const len = lengths[index];
      if (len === LONG) return overflow?.get(index);
      const start = starts[index] - 1;
      return (arena as Buffer).toString('utf8', start, start + len);
    },
    set(index, value) {
      if (index < 0 || index >= size) return;
      starts ??= new Uint32Array(size);
      lengths ??= new Uint8Array(size);
      const bytes = Buffer.byteLength(value, 'utf8');
      if (bytes >= LONG) {
        overflow ??= new Map();
        overflow.set(index, value);
        lengths[index] = LONG;
        starts[index] = 1;
        return;
      }
      overflow?.delete(index);
      reserve(bytes);
      (arena as Buffer).write(value, used, 'utf8');
      starts[index] = used + 1;
      lengths[index] = bytes;
      used += bytes;
    },
    trim() {
      if (!arena || arena.length === used) return;
      const exact = Buffer.allocUnsafeSlow(used);
      arena.copy(exact, 0, 0, used);
      arena = exact;
    },
  };
}

/**
 * The smallest replacement that turns a cell's source into a proposed one: applied as one
 * edit, it is one step for the cell's undo (Ctrl+Z brings the old code back), and the
 * text around it (a selection's surroundings) is not touched at all.
 */

export interface IChange {
  /** Offset of the first character replaced, in the old source. */
  from: number;
  /** Offset after the last character replaced, in the old source. */
  to: number;
  /** What replaces `old.slice(from, to)`. */
  insert: string;
}

/** The change from `before` to `after`: their common head and tail are kept; null when equal. */
export function minimalChange(before: string, after: string): IChange | null {
  if (before === after) {
    return null;
  }
  let head = 0;
  const shorter = Math.min(before.length, after.length);
  while (head < shorter && before.charCodeAt(head) === after.charCodeAt(head)) {
    head += 1;
  }
  let tail = 0;
  while (
    tail < shorter - head &&
    before.charCodeAt(before.length - 1 - tail) ===
      after.charCodeAt(after.length - 1 - tail)
  ) {
    tail += 1;
  }
  // never split a UTF-16 surrogate pair
  if (head > 0 && isHighSurrogate(before.charCodeAt(head - 1))) {
    head -= 1;
  }
  if (tail > 0 && isLowSurrogate(before.charCodeAt(before.length - tail))) {
    tail -= 1;
  }
  return {
    from: head,
    to: before.length - tail,
    insert: after.slice(head, after.length - tail)
  };
}

/** `source` with `change` applied. */
export function applyChange(source: string, change: IChange): string {
  return source.slice(0, change.from) + change.insert + source.slice(change.to);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

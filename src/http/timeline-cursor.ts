import type { TimelineCursor } from '../store/store.js';

// A timeline cursor as the API and the pages carry it: the oldest entry shown, `<at>-<id>` (its
// time in epoch milliseconds and its row id). Opaque to clients: they pass back what they got.

/** The pattern a cursor parameter must match (the schemas use it, so a bad one is a 400). */
export const CURSOR_PATTERN = '^[0-9]{1,16}-[0-9]{1,16}$';

export function formatCursor(c: TimelineCursor | null): string | null {
  return c ? `${c.at}-${c.id}` : null;
}

/** The cursor of a parameter that matched CURSOR_PATTERN; undefined when it was left out. */
export function parseCursor(text: string | undefined): TimelineCursor | undefined {
  if (text === undefined) return undefined;
  const [at, id] = text.split('-').map(Number);
  return { at: at!, id: id! };
}

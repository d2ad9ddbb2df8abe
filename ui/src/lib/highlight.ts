// Search highlights: the shell gives UTF-16 code-unit ranges into the text; the
// UI turns them into plain text and <mark> segments (DOM nodes, never HTML).

export type Segment = { text: string; mark: boolean };

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Moves an offset that falls between the two halves of a surrogate pair. */
function snap(text: string, i: number, forward: boolean): number {
  if (i > 0 && i < text.length && isLow(text.charCodeAt(i)) && isHigh(text.charCodeAt(i - 1))) {
    return forward ? i + 1 : i - 1;
  }
  return i;
}

/**
 * Splits `text` at `ranges` ([start, end) in UTF-16 code units). Ranges are
 * clamped to the text, empty or malformed ones dropped, overlapping or touching
 * ones merged, and no boundary ever splits a surrogate pair (an emoji is marked
 * whole or not at all). The segments' texts always join back to `text`.
 */
export function splitHighlights(text: string, ranges: readonly (readonly [number, number])[]): Segment[] {
  const len = text.length;
  const clean: [number, number][] = [];
  for (const r of ranges ?? []) {
    if (!Array.isArray(r) || r.length < 2) continue;
    let [s, e] = r;
    if (!Number.isFinite(s) || !Number.isFinite(e)) continue;
    s = Math.max(0, Math.min(len, Math.floor(s)));
    e = Math.max(0, Math.min(len, Math.floor(e)));
    s = snap(text, s, false);
    e = snap(text, e, true);
    if (e > s) clean.push([s, e]);
  }
  clean.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: [number, number][] = [];
  for (const r of clean) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  const out: Segment[] = [];
  let at = 0;
  for (const [s, e] of merged) {
    if (s > at) out.push({ text: text.slice(at, s), mark: false });
    out.push({ text: text.slice(s, e), mark: true });
    at = e;
  }
  if (at < len || out.length === 0) out.push({ text: text.slice(at), mark: false });
  return out;
}

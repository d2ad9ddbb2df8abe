// The balance chart is an SVG polyline: its geometry goes in attributes, never
// in style strings (the CSP has no 'unsafe-inline').

export type Point = { at: number; minor: number };

/** SVG `points` for a polyline of `width` x `height` (with `pad` inside), or "" for fewer than 2 points. */
export function sparklinePoints(history: readonly Point[], width: number, height: number, pad = 2): string {
  const pts = history.filter((p) => Number.isFinite(p.at) && Number.isFinite(p.minor));
  if (pts.length < 2) return "";
  const t0 = Math.min(...pts.map((p) => p.at));
  const t1 = Math.max(...pts.map((p) => p.at));
  const v0 = Math.min(...pts.map((p) => p.minor));
  const v1 = Math.max(...pts.map((p) => p.minor));
  const w = width - 2 * pad;
  const h = height - 2 * pad;
  const x = (t: number) => (t1 === t0 ? pad : pad + ((t - t0) / (t1 - t0)) * w);
  const y = (v: number) => (v1 === v0 ? pad + h / 2 : pad + h - ((v - v0) / (v1 - v0)) * h);
  return pts.map((p) => `${x(p.at).toFixed(1)},${y(p.minor).toFixed(1)}`).join(" ");
}

/** "up", "down" or "flat", comparing the last point with the first. */
export function trend(history: readonly Point[]): "up" | "down" | "flat" {
  if (history.length < 2) return "flat";
  const d = history[history.length - 1].minor - history[0].minor;
  return d > 0 ? "up" : d < 0 ? "down" : "flat";
}

import { describe, expect, it } from "vitest";
import { splitHighlights, type Segment } from "../src/lib/highlight";

const join = (segs: Segment[]) => segs.map((s) => s.text).join("");
const marked = (segs: Segment[]) => segs.filter((s) => s.mark).map((s) => s.text);

describe("splitHighlights", () => {
  it("returns the whole text unmarked when there are no ranges", () => {
    expect(splitHighlights("hello", [])).toEqual([{ text: "hello", mark: false }]);
    expect(splitHighlights("", [])).toEqual([{ text: "", mark: false }]);
  });

  it("splits text into plain and marked segments", () => {
    expect(splitHighlights("Your card payment at Cafe", [[5, 9], [21, 25]])).toEqual([
      { text: "Your ", mark: false },
      { text: "card", mark: true },
      { text: " payment at ", mark: false },
      { text: "Cafe", mark: true },
    ]);
  });

  it("marks ranges at the very start and end", () => {
    expect(splitHighlights("abc", [[0, 3]])).toEqual([{ text: "abc", mark: true }]);
    expect(splitHighlights("abcd", [[0, 1], [3, 4]])).toEqual([
      { text: "a", mark: true },
      { text: "bc", mark: false },
      { text: "d", mark: true },
    ]);
  });

  it("merges overlapping, nested, touching and unsorted ranges", () => {
    const segs = splitHighlights("abcdefghij", [[6, 8], [1, 4], [2, 3], [3, 5], [8, 9]]);
    expect(segs).toEqual([
      { text: "a", mark: false },
      { text: "bcde", mark: true },
      { text: "f", mark: false },
      { text: "ghi", mark: true },
      { text: "j", mark: false },
    ]);
  });

  it("clamps out-of-range ranges and drops empty, reversed or malformed ones", () => {
    const text = "balance low";
    const segs = splitHighlights(text, [
      [-5, 3],
      [8, 999],
      [5, 5],
      [7, 6],
      [NaN, 4],
      [100, 200],
      [1] as unknown as [number, number],
    ]);
    expect(join(segs)).toBe(text);
    expect(marked(segs)).toEqual(["bal", "low"]);
  });

  it("never splits a surrogate pair (non-BMP characters are marked whole)", () => {
    const text = "pay 😀 now 𝒳";
    // "😀" is code units 4..6; a range ending in its middle widens to include it.
    const a = splitHighlights(text, [[4, 5]]);
    expect(marked(a)).toEqual(["😀"]);
    expect(join(a)).toBe(text);
    // A range starting in its middle widens backwards.
    const b = splitHighlights(text, [[5, 10]]);
    expect(marked(b)).toEqual(["😀 now"]);
    // The ranges are UTF-16 code units: "now" is 7..10 and "𝒳" 11..13.
    expect(marked(splitHighlights(text, [[7, 10], [11, 13]]))).toEqual(["now", "𝒳"]);
    for (const s of [...a, ...b]) {
      expect(s.text).not.toMatch(/^[\udc00-\udfff]|[\ud800-\udbff]$/);
    }
  });

  it("always joins back to the original text", () => {
    const text = "Transfer of €1,000 to 🏦 Bank — confirmed";
    for (let s = -2; s < text.length + 2; s += 3) {
      for (let e = s; e < text.length + 3; e += 4) {
        expect(join(splitHighlights(text, [[s, e], [e - 2, e + 1]]))).toBe(text);
      }
    }
  });
});

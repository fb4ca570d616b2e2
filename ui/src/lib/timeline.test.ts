import { describe, expect, it } from "vitest";
import {
  buildLayout,
  fractionAtY,
  indexPosition,
  keyDate,
  moveFocus,
  revealScroll,
  rowAtY,
  rowOfIndex,
  rowSpan,
  rowTop,
  rowsInView,
  scrollForFraction,
  scrubLabel,
  sectionAtY,
  sectionBy,
  sectionLabel,
  sectionOfIndex,
  stepSection,
  yAtFraction,
  yearTicks,
  type Section,
} from "./timeline";

const ROW = 206;
const HEAD = 44;

/** 10 years × 12 months, newest first, uneven counts (1 to ~1,600) summing to `total`. */
function months(total = 100_000): Section[] {
  const out: Section[] = [];
  let left = total;
  let seed = 7;
  for (let y = 2024; y >= 2015; y--)
    for (let m = 12; m >= 1; m--) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const last = y === 2015 && m === 1;
      const count = last ? left : 1 + (seed % 1600);
      out.push({ key: `${y}-${String(m).padStart(2, "0")}`, count });
      left -= count;
    }
  if (out[out.length - 1].count <= 0) throw new Error("generator overshot");
  return out;
}

describe("layout", () => {
  const S = months();
  const L = buildLayout(S, 100_000, 5, ROW, HEAD);

  it("puts a header and ceil(count / columns) rows in each section, in order", () => {
    expect(L.headers).toBe(true);
    expect(L.total).toBe(100_000);
    expect(L.keys).toEqual(S.map((s) => s.key));
    const rows = S.reduce((n, s) => n + Math.ceil(s.count / 5), 0);
    expect(L.rows).toBe(rows);
    expect(L.height).toBe(S.length * HEAD + rows * ROW);
    // The second section starts after the first's header and rows.
    expect(L.tops[1]).toBe(HEAD + Math.ceil(S[0].count / 5) * ROW);
    expect(L.starts[1]).toBe(S[0].count);
  });

  it("maps every one of 100k indices to a position and back", () => {
    let prevRow = -1;
    let prevY = -1;
    for (let i = 0; i < L.total; i++) {
      const p = indexPosition(L, i);
      expect(p.row).toBe(rowOfIndex(L, i));
      if (p.row !== prevRow) {
        // Rows advance one at a time, downwards.
        if (p.row !== prevRow + 1 || p.y <= prevY) throw new Error(`row order broken at ${i}`);
        prevRow = p.row;
        prevY = p.y;
      }
      const span = rowSpan(L, p.row);
      if (i < span.start || i >= span.end || i - span.start !== p.column) throw new Error(`span wrong at ${i}`);
      if (rowTop(L, p.row) !== p.y || rowAtY(L, p.y + ROW / 2) !== p.row) throw new Error(`y wrong at ${i}`);
      if (L.keys[p.section] !== L.keys[sectionOfIndex(L, i)]) throw new Error(`section wrong at ${i}`);
    }
    expect(prevRow).toBe(L.rows - 1);
  });

  it("the first item of each section sits right under its header, in column 0", () => {
    for (let s = 0; s < S.length; s++) {
      const p = indexPosition(L, L.starts[s]);
      expect(p).toEqual({ section: s, row: L.firstRows[s], column: 0, y: L.tops[s] + HEAD });
      // A y on the header belongs to that section and gives its first row.
      expect(sectionAtY(L, L.tops[s] + 1)).toBe(s);
      expect(rowAtY(L, L.tops[s] + 1)).toBe(L.firstRows[s]);
    }
  });

  it("builds a 100k, 3,650-day layout fast", () => {
    const days: Section[] = [];
    for (let d = 0; d < 3650; d++) days.push({ key: new Date(2024, 0, 1 - d).toISOString().slice(0, 10), count: d < 3649 ? 27 : 100_000 - 27 * 3649 });
    const t0 = performance.now();
    for (let k = 0; k < 20; k++) buildLayout(days, 100_000, 7, ROW, HEAD);
    expect((performance.now() - t0) / 20).toBeLessThan(5);
  });

  it("is the flat grid without sections, when they fail to add up, or on an empty section", () => {
    for (const s of [null, [], [{ key: "2020-01", count: 5 }], [...months(), { key: "2014-12", count: 0 }]]) {
      const F = buildLayout(s, 100_000, 5, ROW, HEAD);
      expect(F.headers).toBe(false);
      expect(F.headerH).toBe(0);
      expect(F.rows).toBe(20_000);
      expect(F.height).toBe(20_000 * ROW);
      expect(rowTop(F, 1234)).toBe(1234 * ROW);
      expect(rowAtY(F, 1234 * ROW + 3)).toBe(1234);
    }
    const E = buildLayout(null, 0, 5, ROW, HEAD);
    expect(E.rows).toBe(0);
    expect(rowsInView(E, 0, 800)).toEqual([0, -1]);
  });

  it("gives the rows in view plus the next one", () => {
    const s = 37;
    const y = L.tops[s];
    const [a, b] = rowsInView(L, y, y + 768);
    expect(a).toBe(L.firstRows[s]);
    expect(rowTop(L, b)).toBeGreaterThanOrEqual(y + 768 - ROW);
    expect(rowTop(L, b - 1)).toBeLessThan(y + 768);
  });
});

describe("keyboard movement", () => {
  const S = months();
  const L = buildLayout(S, 100_000, 5, ROW, HEAD);

  it("left and right go through the order, across sections, stopping at the ends", () => {
    expect(moveFocus(L, 0, "ArrowLeft", 3)).toBe(0);
    expect(moveFocus(L, S[0].count - 1, "ArrowRight", 3)).toBe(S[0].count);
    expect(moveFocus(L, 99_999, "ArrowRight", 3)).toBe(99_999);
  });

  it("up and down keep the column, taking a short row's last item, across headers", () => {
    // A section whose last row is short (count not a multiple of 5).
    const s = S.findIndex((x, k) => k > 0 && x.count % 5 === 2 && S[k + 1] && S[k + 1].count >= 5);
    expect(s).toBeGreaterThan(0);
    const lastRowStart = L.starts[s + 1] - 2;
    // Down from column 4 of the row above the short row: the short row's last item.
    expect(moveFocus(L, lastRowStart - 1, "ArrowDown", 3)).toBe(lastRowStart + 1);
    // Down from the short row's column 1: the next section's column 1.
    expect(moveFocus(L, lastRowStart + 1, "ArrowDown", 3)).toBe(L.starts[s + 1] + 1);
    // Up from the next section's column 3: the short row's last item.
    expect(moveFocus(L, L.starts[s + 1] + 3, "ArrowUp", 3)).toBe(lastRowStart + 1);
    expect(moveFocus(L, 2, "ArrowUp", 3)).toBe(2);
    expect(moveFocus(L, 99_999, "ArrowDown", 3)).toBe(99_999);
  });

  it("Page keys move by rows and clamp; Home and End go to the ends", () => {
    const from = L.starts[50] + 7; // row 1, column 2 of section 50
    const to = moveFocus(L, from, "PageDown", 4);
    expect(rowOfIndex(L, to)).toBe(rowOfIndex(L, from) + 4);
    expect(moveFocus(L, to, "PageUp", 4)).toBe(from);
    expect(moveFocus(L, 3, "PageUp", 4)).toBe(3);
    expect(rowOfIndex(L, moveFocus(L, 99_990, "PageDown", 4))).toBe(L.rows - 1);
    expect(moveFocus(L, 5000, "Home", 4)).toBe(0);
    expect(moveFocus(L, 5000, "End", 4)).toBe(99_999);
  });

  it("walking down row by row visits every row once and ends at the bottom", () => {
    let i = 0;
    let steps = 0;
    for (;;) {
      const n = moveFocus(L, i, "ArrowDown", 1);
      if (n === i) break;
      if (rowOfIndex(L, n) !== rowOfIndex(L, i) + 1) throw new Error(`skipped a row at ${i}`);
      i = n;
      steps++;
    }
    expect(steps).toBe(L.rows - 1);
  });

  it("reveals a row below the view at the bottom, above it under the sticky header", () => {
    const row = L.firstRows[10] + 3;
    const top = rowTop(L, row);
    expect(revealScroll(L, row, 0, 768, 200)).toBe(top + 200 - 768);
    expect(revealScroll(L, row, top + 500, 768, 200)).toBe(top - HEAD);
    expect(revealScroll(L, row, top - 300, 768, 200)).toBe(top - 300);
  });
});

describe("scrubber", () => {
  const S = months();
  const L = buildLayout(S, 100_000, 5, ROW, HEAD);

  it("has one tick per year, newest first, where the year's first month starts", () => {
    const t = yearTicks(L);
    expect(t.map((x) => x.year)).toEqual([2024, 2023, 2022, 2021, 2020, 2019, 2018, 2017, 2016, 2015]);
    for (const x of t) {
      expect(L.keys[x.section]).toBe(`${x.year}-12`);
      expect(x.fraction).toBeCloseTo(L.tops[x.section] / L.height, 12);
    }
    expect(t[0].fraction).toBe(0);
    // Proportional to rows: each year's share of the track is its share of the height.
    const share = (k: number) => (k + 1 < t.length ? t[k + 1].fraction : 1) - t[k].fraction;
    const h2019 = L.tops[t[6].section] - L.tops[t[5].section];
    expect(share(5)).toBeCloseTo(h2019 / L.height, 12);
  });

  it("a drop on a year's tick puts that year's first header at the top", () => {
    for (const x of yearTicks(L).slice(0, -1)) {
      const top = scrollForFraction(L, x.fraction, 768);
      expect(top).toBe(L.tops[x.section]);
      expect(L.keys[sectionAtY(L, top + 1)]).toBe(`${x.year}-12`);
    }
    // Past the end: the last screen; before the start: the top.
    expect(scrollForFraction(L, 1.5, 768)).toBe(L.height - 768);
    expect(scrollForFraction(L, -1, 768)).toBe(0);
  });

  it("maps fractions and positions linearly, both ways", () => {
    for (const f of [0, 0.1, 0.25, 0.5, 0.9, 1]) expect(fractionAtY(L, yAtFraction(L, f))).toBeCloseTo(f, 12);
    expect(yAtFraction(L, 0.5)).toBe(L.height / 2);
  });

  it("steps a section or a year, clamped at the ends", () => {
    expect(stepSection(L, 0, 1, "section")).toBe(1);
    expect(stepSection(L, 0, -1, "section")).toBe(0);
    expect(L.keys[stepSection(L, 3, 1, "year")]).toBe("2023-12");
    expect(L.keys[stepSection(L, 3, -1, "year")]).toBe("2024-12");
    expect(L.keys[stepSection(L, 12, -1, "year")]).toBe("2024-12");
    expect(L.keys[stepSection(L, 119, 1, "year")]).toBe("2015-01");
  });
});

describe("labels", () => {
  it("reads keys as local dates", () => {
    const d = keyDate("2019-07-14")!;
    expect([d.getFullYear(), d.getMonth(), d.getDate(), d.getHours()]).toEqual([2019, 6, 14, 0]);
    expect(keyDate("2019-07")!.getDate()).toBe(1);
    expect(keyDate("junk")).toBeNull();
  });

  it("says the month and count, or the day", () => {
    expect(sectionLabel("2019-07", 84, "en-GB")).toBe("July 2019 · 84 items");
    expect(sectionLabel("2019-07", 1, "en-GB")).toBe("July 2019 · 1 item");
    // CLDR versions differ on the comma after the weekday.
    expect(sectionLabel("2019-07-14", 12, "en-GB")).toMatch(/^Sunday,? 14 July 2019 · 12$/);
    expect(sectionLabel("2019-07", 1234, "en-US")).toBe("July 2019 · 1,234 items");
    expect(sectionLabel("2019-07", 3, "fr-FR")).toBe("juillet 2019 · 3 items");
    expect(scrubLabel("2019-07-14", "en-GB")).toBe("July 2019");
  });

  it("reads in the default locale when the page's is not one Intl knows (LANG=C gives \"C\")", () => {
    expect(() => new Intl.DateTimeFormat("C")).toThrow(RangeError);
    expect(sectionLabel("2019-07", 84, "C")).toBe(sectionLabel("2019-07", 84, undefined));
    expect(scrubLabel("2019-07", "C")).toBe(scrubLabel("2019-07", undefined));
    expect(sectionLabel("2019-07-14", 2, "C")).toMatch(/2019 · 2$/);
  });

  it("groups by day from the day tile size up", () => {
    expect(sectionBy(190)).toBe("month");
    expect(sectionBy(249)).toBe("month");
    expect(sectionBy(250)).toBe("day");
    expect(sectionBy(340)).toBe("day");
  });
});

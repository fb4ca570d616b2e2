// The timeline's geometry, kept pure so it can be tested on 100k items without a page.
//
// The grid still fetches items by offset pages in the library's order; the library's
// `date_sections` answers how many of those items fall in each month (or day), in the
// same order. So item index i belongs to the section whose running count passes i, and
// each section is a header followed by its own rows of `columns` tiles (its last row may
// be short). Everything here is arrays of numbers and binary searches over sections, so
// a layout of 100k items in 3,650 day sections builds in well under a millisecond and
// every lookup (a row at a scroll position, the row of an item) is O(log sections): the
// grid only ever builds what is in view, and a scrubber jump across ten years costs the
// same as a one-row scroll.

/** One timeline header, as `date_sections` answers it: "2019-07" or "2019-07-14". */
export interface Section {
  key: string;
  count: number;
}

/** Sections by month, or by day when tiles are large enough to see a day at a time. */
export type SectionBy = "month" | "day";

/**
 * From this tile size up, headers are per day. At 250 px a 1280-px window holds about 4
 * columns × 3 rows, a dozen pictures: about one day of a trip, so a day's header names
 * what is on screen. Smaller tiles show a hundred pictures or more, many days of one or
 * two shots each; per-day headers there would spend most of the screen on headers and
 * short rows, so months it is.
 */
export const DAY_TILE_SIZE = 250;

export function sectionBy(tileSize: number): SectionBy {
  return tileSize >= DAY_TILE_SIZE ? "day" : "month";
}

export interface Layout {
  columns: number;
  /** Row pitch: a tile's height plus the gap below it. */
  rowH: number;
  /** Height of a section's header; 0 for the flat grid. */
  headerH: number;
  /** Whether sections have headers (false: the flat grid, one section without a key). */
  headers: boolean;
  total: number;
  keys: string[];
  counts: number[];
  /** starts[s]: index of section s's first item; starts[n] = total. */
  starts: number[];
  /** firstRows[s]: the global number of section s's first row of tiles; firstRows[n] = rows. */
  firstRows: number[];
  /** tops[s]: y of section s's top (its header); tops[n] = height. */
  tops: number[];
  /** Rows of tiles, all sections together (headers are not rows). */
  rows: number;
  height: number;
}

/**
 * The layout of `total` items. With `sections` (in the grid's order, counts summing to
 * `total`) each section gets a header of `headerH` px; without them, or when they do not
 * add up to `total` (the library changed between the two answers), the flat grid: one
 * section, no header, the same rows as before the timeline.
 */
export function buildLayout(
  sections: readonly Section[] | null | undefined,
  total: number,
  columns: number,
  rowH: number,
  headerH: number,
): Layout {
  columns = Math.max(1, Math.floor(columns));
  total = Math.max(0, Math.floor(total));
  let sum = 0;
  if (sections) for (const s of sections) sum += s.count;
  const headers = !!sections && sections.length > 0 && sum === total && sections.every((s) => s.count > 0);
  const list: readonly Section[] = headers ? sections! : [{ key: "", count: total }];
  const hH = headers ? headerH : 0;
  const n = list.length;
  const keys = new Array<string>(n);
  const counts = new Array<number>(n);
  const starts = new Array<number>(n + 1);
  const firstRows = new Array<number>(n + 1);
  const tops = new Array<number>(n + 1);
  let start = 0;
  let row = 0;
  let top = 0;
  for (let s = 0; s < n; s++) {
    const c = list[s].count;
    keys[s] = list[s].key;
    counts[s] = c;
    starts[s] = start;
    firstRows[s] = row;
    tops[s] = top;
    const r = Math.ceil(c / columns);
    start += c;
    row += r;
    top += hH + r * rowH;
  }
  starts[n] = start;
  firstRows[n] = row;
  tops[n] = top;
  return { columns, rowH, headerH: hH, headers, total: start, keys, counts, starts, firstRows, tops, rows: row, height: top };
}

/** The last s in [0, n) with arr[s] <= v (0 when v is before everything). */
function lastAtOrBelow(arr: readonly number[], n: number, v: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (arr[mid] <= v) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const sectionCount = (L: Layout) => L.keys.length;

/** The section holding item `index`. */
export function sectionOfIndex(L: Layout, index: number): number {
  return lastAtOrBelow(L.starts, sectionCount(L), index);
}

/** The section holding global row `row`. */
export function sectionOfRow(L: Layout, row: number): number {
  return lastAtOrBelow(L.firstRows, sectionCount(L), row);
}

/** The section whose span (header and rows) holds content position `y`. */
export function sectionAtY(L: Layout, y: number): number {
  return lastAtOrBelow(L.tops, sectionCount(L), y);
}

/** The global row of item `index`. */
export function rowOfIndex(L: Layout, index: number): number {
  const s = sectionOfIndex(L, index);
  return L.firstRows[s] + Math.floor((index - L.starts[s]) / L.columns);
}

/** The y of a row's top edge. */
export function rowTop(L: Layout, row: number): number {
  const s = sectionOfRow(L, row);
  return L.tops[s] + L.headerH + (row - L.firstRows[s]) * L.rowH;
}

/** The items of a row: [start, end). */
export function rowSpan(L: Layout, row: number): { start: number; end: number } {
  const s = sectionOfRow(L, row);
  const start = L.starts[s] + (row - L.firstRows[s]) * L.columns;
  return { start, end: Math.min(L.starts[s + 1], start + L.columns) };
}

/** Where item `index` is: its section, row, column and the y of its row. */
export function indexPosition(L: Layout, index: number): { section: number; row: number; column: number; y: number } {
  const section = sectionOfIndex(L, index);
  const inSection = index - L.starts[section];
  const row = L.firstRows[section] + Math.floor(inSection / L.columns);
  const column = inSection % L.columns;
  return { section, row, column, y: L.tops[section] + L.headerH + Math.floor(inSection / L.columns) * L.rowH };
}

/**
 * The row at content position `y`: the row under it, or, for a y on a header, the first
 * row of that header's section. Clamped to the rows there are (-1 when there are none).
 */
export function rowAtY(L: Layout, y: number): number {
  if (L.rows === 0) return -1;
  const s = sectionAtY(L, Math.max(0, y));
  const rowsHere = L.firstRows[s + 1] - L.firstRows[s];
  const r = Math.floor((y - L.tops[s] - L.headerH) / L.rowH);
  return L.firstRows[s] + Math.min(Math.max(r, 0), rowsHere - 1);
}

/**
 * The rows meeting the band [top, bottom] of content, and the one after (the flat grid
 * always counted it: `ceil(bottom / rowH)`), as [first, last] (first > last: none).
 */
export function rowsInView(L: Layout, top: number, bottom: number): [number, number] {
  if (L.rows === 0) return [0, -1];
  return [rowAtY(L, top), Math.min(L.rows - 1, rowAtY(L, bottom) + 1)];
}

export type MoveKey = "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown" | "Home" | "End" | "PageUp" | "PageDown";

export function isMoveKey(key: string): key is MoveKey {
  return ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", "PageUp", "PageDown"].includes(key);
}

/**
 * Where the keyboard focus goes from item `index`: left and right through the order
 * (across rows and sections), up and down by a row, keeping the column where the row
 * is long enough (a section's short last row takes its last item), a page of
 * `pageRows` rows with PageUp/PageDown, the first and last item with Home/End.
 */
export function moveFocus(L: Layout, index: number, key: MoveKey, pageRows: number): number {
  if (L.total === 0) return index;
  const last = L.total - 1;
  const i = Math.min(Math.max(index, 0), last);
  const byRows = (delta: number) => {
    const row = rowOfIndex(L, i);
    const column = i - rowSpan(L, row).start;
    const target = Math.min(Math.max(row + delta, 0), L.rows - 1);
    if (target === row) return i;
    const span = rowSpan(L, target);
    return Math.min(span.start + column, span.end - 1);
  };
  switch (key) {
    case "ArrowLeft":
      return Math.max(0, i - 1);
    case "ArrowRight":
      return Math.min(last, i + 1);
    case "ArrowUp":
      return byRows(-1);
    case "ArrowDown":
      return byRows(1);
    case "PageUp":
      return byRows(-Math.max(1, pageRows));
    case "PageDown":
      return byRows(Math.max(1, pageRows));
    case "Home":
      return 0;
    case "End":
      return last;
  }
}

/**
 * The scroll position that shows row `row` whole, moving as little as possible from
 * `scrollTop`; `under` is what covers the top of the view (the sticky header).
 */
export function revealScroll(L: Layout, row: number, scrollTop: number, viewH: number, tileH: number): number {
  const top = rowTop(L, row);
  const minTop = top - L.headerH;
  if (minTop < scrollTop) return Math.max(0, minTop);
  const maxTop = top + tileH - viewH;
  if (maxTop > scrollTop) return Math.min(maxTop, Math.max(0, L.height - viewH));
  return scrollTop;
}

// The scrubber is linear in content height: fraction f of its track is content position
// f × height, so a drag moves the grid at a constant rate and a year's tick sits where
// dropping the pointer on it puts that year's first header at the top of the view.

/** The content position at scrubber fraction `f`. */
export function yAtFraction(L: Layout, f: number): number {
  return Math.min(Math.max(f, 0), 1) * L.height;
}

/** The scrubber fraction of content position `y`. */
export function fractionAtY(L: Layout, y: number): number {
  return L.height > 0 ? Math.min(Math.max(y / L.height, 0), 1) : 0;
}

/** The scroll position a scrubber fraction jumps to: its section's header at the top. */
export function scrollForFraction(L: Layout, f: number, viewH: number): number {
  const y = yAtFraction(L, f);
  const s = sectionAtY(L, y);
  const top = L.headers && y - L.tops[s] < L.headerH ? L.tops[s] : y;
  return Math.min(Math.max(0, top), Math.max(0, L.height - viewH));
}

export interface Tick {
  year: number;
  /** Where the year's first section starts, as a fraction of the track. */
  fraction: number;
  /** Its first section. */
  section: number;
}

/** One tick per year, at the first section of that year in the grid's order. */
export function yearTicks(L: Layout): Tick[] {
  if (!L.headers) return [];
  const out: Tick[] = [];
  let prev = NaN;
  for (let s = 0; s < L.keys.length; s++) {
    const year = Number(L.keys[s].slice(0, 4));
    if (year !== prev) {
      out.push({ year, fraction: fractionAtY(L, L.tops[s]), section: s });
      prev = year;
    }
  }
  return out;
}

/**
 * The section to step to from the one at the top of the view: the next or previous
 * section (`unit` "section"), or the first section of the next or previous year.
 */
export function stepSection(L: Layout, from: number, delta: 1 | -1, unit: "section" | "year"): number {
  const n = L.keys.length;
  if (unit === "section") return Math.min(Math.max(from + delta, 0), n - 1);
  const year = L.keys[from]?.slice(0, 4);
  let s = from;
  if (delta > 0) {
    while (s < n - 1 && L.keys[s].slice(0, 4) === year) s++;
    return s;
  }
  // Back: to the first section of this year if not on it, else of the year before.
  while (s > 0 && L.keys[s - 1].slice(0, 4) === year) s--;
  if (s !== from) return s;
  if (s === 0) return 0;
  const before = L.keys[s - 1].slice(0, 4);
  s--;
  while (s > 0 && L.keys[s - 1].slice(0, 4) === before) s--;
  return s;
}

/** The local date a section key names ("2019-07" → 1 July 2019, "2019-07-14" → that day). */
export function keyDate(key: string): Date | null {
  const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(key);
  if (!m) return null;
  return new Date(Number(m[1]), Number(m[2]) - 1, m[3] ? Number(m[3]) : 1);
}

/**
 * The page's locale when Intl knows it, else undefined (Intl's default). A desktop
 * started with LANG=C gives WebKit the language "C", which every Intl constructor
 * refuses with a RangeError: the headers must still read, in the default locale.
 */
export function usableLocale(locale: string | undefined): string | undefined {
  if (!locale) return undefined;
  try {
    return Intl.getCanonicalLocales(locale)[0];
  } catch {
    return undefined;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(locale: string | undefined, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const id = `${locale ?? ""}|${JSON.stringify(opts)}`;
  let f = formatters.get(id);
  if (!f) {
    f = new Intl.DateTimeFormat(usableLocale(locale), opts);
    formatters.set(id, f);
  }
  return f;
}

/** "July 2019" for a month key, "Sunday 14 July 2019" (in the locale's words) for a day. */
export function sectionTitle(key: string, locale?: string): string {
  const d = keyDate(key);
  if (!d) return key || "Undated";
  return key.length > 7
    ? formatter(locale, { weekday: "long", day: "numeric", month: "long", year: "numeric" }).format(d)
    : formatter(locale, { month: "long", year: "numeric" }).format(d);
}

/** The header's words: "July 2019 · 84 items" (a month), "Sunday 14 July 2019 · 12" (a day). */
export function sectionLabel(key: string, count: number, locale?: string): string {
  const n = new Intl.NumberFormat(usableLocale(locale)).format(count);
  if (key.length > 7) return `${sectionTitle(key, locale)} · ${n}`;
  return `${sectionTitle(key, locale)} · ${n} item${count === 1 ? "" : "s"}`;
}

/** The scrubber's label while dragging: the month and year ("July 2019"). */
export function scrubLabel(key: string, locale?: string): string {
  const d = keyDate(key);
  return d ? formatter(locale, { month: "long", year: "numeric" }).format(d) : key;
}

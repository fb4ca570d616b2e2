import { act, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { invoke } from "@tauri-apps/api/core";
import Grid from "./Grid.svelte";
import { queryMedia, type MediaQuery } from "../lib/api";
import { video } from "../test/fixtures";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));
const mockedInvoke = vi.mocked(invoke);

const TOTAL = 100_000;

beforeEach(() => {
  mockedInvoke.mockReset();
  // A 100k-item library answered page by page, as the app's `query_media` does.
  mockedInvoke.mockImplementation(async (cmd, args) => {
    if (cmd !== "query_media") throw new Error(`unexpected ${cmd}`);
    const q = (args as { query: MediaQuery }).query;
    const end = Math.min(TOTAL, q.offset + q.limit);
    const items = [];
    for (let i = q.offset; i < end; i++) items.push(video(i + 1));
    return { items, total: TOTAL };
  });
});

const source = (offset: number, limit: number) => queryMedia({ sort: "taken_desc", offset, limit });

describe("Grid", () => {
  it("keeps only the visible rows in the DOM with 100k items", async () => {
    render(Grid, { source, tileSize: 200 });
    await waitFor(() => expect(screen.getAllByTestId("tile").length).toBeGreaterThan(0));
    const grid = screen.getByTestId("grid");
    expect(grid.dataset.total).toBe(String(TOTAL));
    const tiles = screen.getAllByTestId("tile");
    // 1024×768 viewport, 200px tiles: 5 columns, ~4 rows visible + 4 rows of margin below
    // (built ahead of a fast scroll).
    expect(tiles.length).toBeLessThanOrEqual(5 * 10);
    expect(document.querySelectorAll(".row").length).toBeLessThanOrEqual(10);
    // The spacer is as tall as all 20 000 rows, so the scrollbar is honest.
    const spacer = grid.firstElementChild as HTMLElement;
    expect(parseFloat(spacer.style.height)).toBeGreaterThan(20_000 * 190);
    // Only the first page was fetched, not 100k items.
    expect(mockedInvoke).toHaveBeenCalledTimes(1);
    expect(mockedInvoke.mock.calls[0][1]).toMatchObject({ query: { offset: 0, limit: 120 } });
  });

  it("fetches and shows the right items after scrolling deep", async () => {
    render(Grid, { source, tileSize: 200 });
    await waitFor(() => expect(screen.getAllByTestId("tile").length).toBeGreaterThan(0));
    const grid = screen.getByTestId("grid");
    const tiles0 = screen.getAllByTestId("tile");
    const rowH = parseFloat(getComputedStyle(tiles0[0].parentElement as HTMLElement).height) + 6;
    const targetRow = 15_000;
    grid.scrollTop = targetRow * rowH;
    await act(() => grid.dispatchEvent(new Event("scroll")));
    await waitFor(() => {
      const ids = screen.getAllByTestId("tile").map((t) => Number(t.dataset.mediaId));
      expect(ids).toContain(targetRow * 5 + 1);
    });
    const ids = screen.getAllByTestId("tile").map((t) => Number(t.dataset.mediaId));
    expect(ids.length).toBeLessThanOrEqual(5 * 14);
    expect(Math.min(...ids)).toBeGreaterThan(targetRow * 5 - 5 * 5);
    const offsets = mockedInvoke.mock.calls.map((c) => (c[1] as { query: MediaQuery }).query.offset);
    expect(offsets).toContain(Math.floor((targetRow * 5) / 120) * 120);
  });

  it("builds its margin of rows ahead of the scroll, keeping one row behind", async () => {
    render(Grid, { source, tileSize: 200 });
    await waitFor(() => expect(screen.getAllByTestId("tile").length).toBeGreaterThan(0));
    const grid = screen.getByTestId("grid");
    const rowH = parseFloat(getComputedStyle(screen.getAllByTestId("tile")[0].parentElement as HTMLElement).height) + 6;
    const viewH = window.innerHeight;
    const rowsInDom = () => [...document.querySelectorAll<HTMLElement>(".row")].map((r) => Number(r.dataset.row));
    const scrollToRow = async (row: number) => {
      grid.scrollTop = row * rowH;
      await act(() => grid.dispatchEvent(new Event("scroll")));
    };
    const lastInView = (row: number) => Math.ceil((row * rowH + viewH) / rowH);

    await scrollToRow(100); // down
    await waitFor(() => {
      expect(Math.min(...rowsInDom())).toBe(99);
      expect(Math.max(...rowsInDom())).toBe(lastInView(100) + 4);
    });
    await scrollToRow(90); // back up
    await waitFor(() => {
      expect(Math.min(...rowsInDom())).toBe(86);
      expect(Math.max(...rowsInDom())).toBe(lastInView(90) + 1);
    });
  });

  it("asks for small copies for small tiles and 512-px ones for large tiles", async () => {
    const { unmount } = render(Grid, { source, tileSize: 200 });
    await waitFor(() => expect(screen.getAllByTestId("tile").length).toBeGreaterThan(0));
    // 1024 px wide, 200 px tiles: 5 columns of ~200 px, at a device pixel ratio of 1.
    expect(screen.getAllByTestId("tile")[0].querySelector("img")?.getAttribute("src")).toMatch(/^keepsake:\/\/localhost\/small\/tile\/1\/1\?/);
    unmount();
    render(Grid, { source, tileSize: 300 });
    await waitFor(() => expect(screen.getAllByTestId("tile").length).toBeGreaterThan(0));
    expect(screen.getAllByTestId("tile")[0].querySelector("img")?.getAttribute("src")).toMatch(/^keepsake:\/\/localhost\/tile\/1\/1\?/);
  });

  it("reports its first paint once, after the first page shows", async () => {
    const onpainted = vi.fn();
    const { rerender } = render(Grid, { source, tileSize: 200, onpainted, refreshToken: 0 });
    await waitFor(() => expect(onpainted).toHaveBeenCalledTimes(1));
    expect(screen.getAllByTestId("tile").length).toBeGreaterThan(0);
    await rerender({ source, tileSize: 200, onpainted, refreshToken: 1 });
    await waitFor(() => expect(mockedInvoke).toHaveBeenCalledTimes(2));
    await new Promise((r) => setTimeout(r, 50));
    expect(onpainted).toHaveBeenCalledTimes(1);
  });

  it("reports its first paint for an empty library too", async () => {
    mockedInvoke.mockImplementation(async () => ({ items: [], total: 0 }));
    const onpainted = vi.fn();
    render(Grid, { source, tileSize: 200, onpainted });
    await waitFor(() => expect(onpainted).toHaveBeenCalledTimes(1));
    expect(screen.queryAllByTestId("tile")).toHaveLength(0);
  });

  it("opens an item on click and selects with a modifier", async () => {
    const onopen = vi.fn();
    const onselect = vi.fn();
    render(Grid, { source, tileSize: 200, onopen, onselect });
    await waitFor(() => expect(screen.getAllByTestId("tile").length).toBeGreaterThan(0));
    const tile = screen.getAllByTestId("tile")[3];
    tile.click();
    expect(onopen).toHaveBeenCalledWith(expect.objectContaining({ id: 4 }));
    tile.dispatchEvent(new MouseEvent("click", { bubbles: true, ctrlKey: true }));
    expect(onselect).toHaveBeenCalledWith(expect.objectContaining({ id: 4 }));
  });

  it("refetches what is on screen when asked, picking up new covers", async () => {
    const { rerender } = render(Grid, { source, tileSize: 200, refreshToken: 0 });
    await waitFor(() => expect(screen.getAllByTestId("tile").length).toBeGreaterThan(0));
    mockedInvoke.mockImplementation(async (_cmd, args) => {
      const q = (args as { query: MediaQuery }).query;
      const items = [];
      for (let i = q.offset; i < q.offset + q.limit; i++) items.push(video(i + 1, { cover_kind: i === 0 ? "time" : "auto", cover_version: i === 0 ? 9 : 1 }));
      return { items, total: TOTAL };
    });
    await rerender({ source, tileSize: 200, refreshToken: 1 });
    await waitFor(() => {
      const first = screen.getAllByTestId("tile")[0].querySelector("img.active");
      expect(first?.getAttribute("src")).toBe("keepsake://localhost/small/tile/1/cover?v=9");
    });
  });

  it("walks the tiles with the keyboard: arrows by column and row, Page and Home/End, a roving tab stop", async () => {
    render(Grid, { source, tileSize: 200 });
    await waitFor(() => expect(screen.getAllByTestId("tile").length).toBeGreaterThan(0));
    // One tile in the tab order: the first.
    const stops = screen.getAllByTestId("tile").filter((t) => t.tabIndex === 0);
    expect(stops.map((t) => t.dataset.index)).toEqual(["0"]);
    const at = (i: number) => document.querySelector<HTMLElement>(`[data-testid="tile"][data-index="${i}"]`)!;
    const press = async (key: string, init: KeyboardEventInit = {}) => {
      await fireEvent.keyDown(document.activeElement as HTMLElement, { key, ...init });
      await act(() => new Promise((r) => setTimeout(r, 0)));
    };
    at(0).focus();
    await waitFor(() => expect(at(0).dataset.focused).toBe("true"));
    await press("ArrowRight");
    await waitFor(() => expect(document.activeElement).toBe(at(1)));
    expect(at(1).dataset.focused).toBe("true");
    expect(at(0).dataset.focused).toBeUndefined();
    // 5 columns: down is +5, up is back.
    await press("ArrowDown");
    await waitFor(() => expect(document.activeElement).toBe(at(6)));
    await press("ArrowUp");
    await waitFor(() => expect(document.activeElement).toBe(at(1)));
    await press("ArrowLeft");
    await press("ArrowLeft"); // stays at the first
    await waitFor(() => expect(document.activeElement).toBe(at(0)));
    // A page: the rows that fit under 768 px of 206-px rows (3), same column.
    await press("PageDown");
    await waitFor(() => expect(document.activeElement).toBe(at(15)));
    // End: the last of 100k, scrolled to, fetched, focused; Home back.
    await press("End");
    await waitFor(() => expect(document.activeElement).toBe(at(TOTAL - 1)));
    expect(at(TOTAL - 1).tabIndex).toBe(0);
    const grid = screen.getByTestId("grid");
    expect(grid.scrollTop).toBeGreaterThan(19_000 * 206);
    await press("Home");
    await waitFor(() => expect(document.activeElement).toBe(at(0)));
    expect(grid.scrollTop).toBe(0);
  });

  it("Enter opens the viewer at the index, i the detail panel, Space selects, Shift extends a range", async () => {
    const onview = vi.fn();
    const onopen = vi.fn();
    const onselect = vi.fn();
    const ranges: [number[], boolean][] = [];
    const onselectrange = (items: { id: number }[], selected: boolean) => ranges.push([items.map((i) => i.id), selected]);
    render(Grid, { source, tileSize: 200, onview, onopen, onselect, onselectrange });
    await waitFor(() => expect(screen.getAllByTestId("tile").length).toBeGreaterThan(0));
    const at = (i: number) => document.querySelector<HTMLElement>(`[data-testid="tile"][data-index="${i}"]`)!;
    at(7).focus();
    await fireEvent.keyDown(at(7), { key: "Enter" });
    expect(onview).toHaveBeenCalledWith(expect.objectContaining({ id: 8 }), 7);
    await fireEvent.keyDown(at(7), { key: "i" });
    expect(onopen).toHaveBeenCalledWith(expect.objectContaining({ id: 8 }));
    await fireEvent.keyDown(at(7), { key: " " });
    expect(onselect).toHaveBeenCalledWith(expect.objectContaining({ id: 8 }));
    // Shift+Right twice from 7: 7–8, then 9 joins; Shift+Left gives 9 back; Shift+Down
    // from 8 (anchor 7) runs to 13.
    await fireEvent.keyDown(at(7), { key: "ArrowRight", shiftKey: true });
    await waitFor(() => expect(document.activeElement).toBe(at(8)));
    await fireEvent.keyDown(at(8), { key: "ArrowRight", shiftKey: true });
    await waitFor(() => expect(document.activeElement).toBe(at(9)));
    await fireEvent.keyDown(at(9), { key: "ArrowLeft", shiftKey: true });
    await waitFor(() => expect(document.activeElement).toBe(at(8)));
    await fireEvent.keyDown(at(8), { key: "ArrowDown", shiftKey: true });
    await waitFor(() => expect(document.activeElement).toBe(at(13)));
    expect(ranges).toEqual([
      [[8, 9], true],
      [[10], true],
      [[10], false],
      [[10, 11, 12, 13, 14], true],
    ]);
    // A plain move drops the range's anchor: Shift now starts from the new place.
    await fireEvent.keyDown(at(13), { key: "ArrowRight" });
    await waitFor(() => expect(document.activeElement).toBe(at(14)));
    await fireEvent.keyDown(at(14), { key: "ArrowRight", shiftKey: true });
    await waitFor(() => expect(ranges.at(-1)).toEqual([[15, 16], true]));
    // A double click opens the viewer too.
    await fireEvent.dblClick(at(3));
    expect(onview).toHaveBeenLastCalledWith(expect.objectContaining({ id: 4 }), 3);
  });

  it("groups items under date headers in order, with a scrubber; focus crosses into the next month", async () => {
    // 10 years × 12 months, uneven counts, summing to the 100k the pages answer.
    const months: { key: string; count: number }[] = [];
    let left = TOTAL;
    for (let y = 2024; y >= 2015; y--)
      for (let m = 12; m >= 1; m--) {
        const count = y === 2015 && m === 1 ? left : 400 + ((y * 12 + m) % 7) * 97;
        expect(count).toBeGreaterThan(0);
        months.push({ key: `${y}-${String(m).padStart(2, "0")}`, count });
        left -= count;
      }
    const sections = vi.fn(async () => months);
    const { rerender } = render(Grid, { source, tileSize: 200, sections });
    await waitFor(() => expect(screen.getAllByTestId("date-header").length).toBeGreaterThan(0));
    expect(sections).toHaveBeenCalledWith("month");
    const headers = screen.getAllByTestId("date-header");
    expect(headers[0].dataset.date).toBe("2024-12");
    expect(headers[0].textContent).toMatch(/December 2024 · \d[\d,.\s]* items/);
    // The first month's tiles are the first items; the second header starts after them.
    const first = months[0].count;
    expect(headers.map((h) => h.dataset.date)).toEqual(months.slice(0, headers.length).map((m) => m.key));
    expect(screen.getByTestId("scrubber").getAttribute("aria-valuetext")).toBe("December 2024");
    expect(screen.getAllByTestId("scrubber-year").map((t) => t.dataset.year)).toEqual(["2024", "2023", "2022", "2021", "2020", "2019", "2018", "2017", "2016", "2015"]);
    // Right from the first month's last item lands on the next month's first.
    const at = (i: number) => document.querySelector<HTMLElement>(`[data-testid="tile"][data-index="${i}"]`)!;
    // Setting `focused` scrolls that tile into view and focuses it.
    await rerender({ source, tileSize: 200, sections, focused: first - 1 });
    await waitFor(() => expect(document.activeElement).toBe(at(first - 1)));
    expect(at(first - 1).dataset.focused).toBe("true");
    await fireEvent.keyDown(at(first - 1), { key: "ArrowRight" });
    await waitFor(() => expect(document.activeElement).toBe(at(first)));
    expect(at(first).closest(".section")?.querySelector('[data-testid="date-header"]')?.getAttribute("data-date")).toBe("2024-11");
  });

  it("shows the flat grid when the sections fail or do not add up", async () => {
    render(Grid, { source, tileSize: 200, sections: async () => Promise.reject(new Error("boom")) });
    await waitFor(() => expect(screen.getAllByTestId("tile").length).toBeGreaterThan(0));
    await new Promise((r) => setTimeout(r, 20));
    expect(screen.queryAllByTestId("date-header")).toHaveLength(0);
    expect(screen.queryByTestId("scrubber")).toBeNull();
  });

  it("asks for day sections for large tiles", async () => {
    const sections = vi.fn(async () => [{ key: "2024-07-14", count: TOTAL }]);
    render(Grid, { source, tileSize: 300, sections });
    await waitFor(() => expect(screen.getAllByTestId("date-header").length).toBe(1));
    expect(sections).toHaveBeenCalledWith("day");
    expect(screen.getByTestId("date-header").textContent).toMatch(/^Sunday\b.*\b(14 July|July 14)\b.*2024 · 100.?000$/);
  });

  it("keeps the focus on the same item when the layout changes under it", async () => {
    const { rerender } = render(Grid, { source, tileSize: 200 });
    await waitFor(() => expect(screen.getAllByTestId("tile").length).toBeGreaterThan(0));
    const at = (i: number) => document.querySelector<HTMLElement>(`[data-testid="tile"][data-index="${i}"]`)!;
    at(12).focus();
    await waitFor(() => expect(at(12).dataset.focused).toBe("true"));
    const id = at(12).dataset.mediaId;
    // Bigger tiles: 3 columns instead of 5; item 12 is now on another row, in another element.
    await rerender({ source, tileSize: 330 });
    await waitFor(() => expect(document.activeElement).toBe(at(12)));
    expect((document.activeElement as HTMLElement).dataset.mediaId).toBe(id);
    await fireEvent.keyDown(at(12), { key: "ArrowDown" });
    await waitFor(() => expect(document.activeElement).toBe(at(15)));
  });
});

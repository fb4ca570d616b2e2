import { act, render, screen, waitFor } from "@testing-library/svelte";
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
});

// The app's wiring of the viewer, the Events page and the memories (#17): what opens
// what, and where focus goes. The components' own behaviour is in their tests.
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import App from "./App.svelte";
import { photo, video } from "./test/fixtures";
import type { AlbumEvent, Album, MediaItem, MediaQuery, Memory } from "./lib/api";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn() }));
const mockedInvoke = vi.mocked(invoke);

const albums: Album[] = [{ id: 1, path: "/p/Family", name: "Family", online: true, photos: 3, videos: 1, demo: false }];
const items: MediaItem[] = [photo(11), photo(12), video(13), photo(14)];
const trip: AlbumEvent = { id: 7, name: "12–14 Aug 2021", named: false, start_at: 1_628_762_400, end_at: 1_628_935_200, count: 2, photos: 1, videos: 1, cover: items[0] };
const memory: Memory = { key: "on-this-day-2023-11-30", kind: "on_this_day", title: "On this day", subtitle: "30 Nov 2023 · 2 photos", cover: items[0], items: [items[0], items[1]] };
let queries: MediaQuery[];

beforeEach(() => {
  localStorage.clear();
  queries = [];
  vi.mocked(listen).mockResolvedValue(() => {});
  mockedInvoke.mockReset();
  mockedInvoke.mockImplementation(async (cmd, args) => {
    switch (cmd) {
      case "list_albums":
        return albums;
      case "query_media": {
        const q = (args as { query: MediaQuery }).query;
        queries.push(q);
        const list = q.event === trip.id ? [items[0], items[2]] : items;
        return { items: list.slice(q.offset, q.offset + q.limit), total: list.length };
      }
      case "queue_progress":
        return { done: 0, total: 0, failed: 0, queued: 0, running: [], eta_s: null, paused: false };
      case "date_sections":
        return [];
      case "list_events":
        return [trip];
      case "list_memories":
        return [memory];
      default:
        return null;
    }
  });
});

const tile = (index: number) => document.querySelector<HTMLElement>(`[data-testid=tile][data-index="${index}"]`);

describe("the viewer in the app", () => {
  it("Enter on a tile opens it at that index; Esc returns focus to the tile it ended on", async () => {
    render(App);
    await waitFor(() => expect(tile(0)).toBeTruthy());
    tile(0)!.focus();
    await fireEvent.keyDown(tile(0)!, { key: "Enter" });
    const viewer = await screen.findByTestId("viewer");
    await waitFor(() => expect(viewer.dataset.id).toBe("11"));
    await fireEvent.keyDown(window, { key: "ArrowRight" });
    expect(viewer.dataset.id).toBe("12");
    await fireEvent.keyDown(window, { key: "Escape" });
    expect(screen.queryByTestId("viewer")).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(tile(1)));
    expect(tile(1)!.dataset.focused).toBeDefined();
    // Esc went to the viewer only: no detail panel was opened or closed by it.
    expect(screen.queryByTestId("detail")).toBeNull();
  });

  it("a click's detail panel waits for the double-click time; a double click opens the viewer instead", async () => {
    render(App);
    await waitFor(() => expect(tile(2)).toBeTruthy());
    await fireEvent.click(tile(2)!, { detail: 1 });
    await fireEvent.click(tile(2)!, { detail: 2 });
    await fireEvent.dblClick(tile(2)!, { detail: 2 });
    expect((await screen.findByTestId("viewer")).dataset.index).toBe("2");
    await new Promise((r) => setTimeout(r, 400));
    expect(document.querySelector("aside")).toBeNull();
    await fireEvent.keyDown(window, { key: "Escape" });
    // A single click opens the panel, a moment later.
    await fireEvent.click(tile(3)!, { detail: 1 });
    expect(document.querySelector("aside")).toBeNull();
    await waitFor(() => expect(document.querySelector("aside")).toBeTruthy());
  });
});

describe("events and memories in the app", () => {
  it("the Events page opens an event as the grid of its items, under its name", async () => {
    render(App);
    await fireEvent.click(await screen.findByTestId("view-events"));
    expect(screen.getByTestId("heading").textContent).toBe("Events");
    await fireEvent.click(await screen.findByTestId("event"));
    await waitFor(() => expect(screen.getByTestId("heading").textContent).toBe("12–14 Aug 2021"));
    expect(screen.getByTestId("event-rename")).toBeTruthy();
    await waitFor(() => expect(screen.getByTestId("grid").dataset.total).toBe("2"));
    expect(queries.at(-1)).toMatchObject({ event: 7, root: null, kind: null });
    // Back, and a sidebar choice leaves the event.
    await fireEvent.click(screen.getByTestId("events-back"));
    expect(screen.getByTestId("heading").textContent).toBe("Events");
    await fireEvent.click(await screen.findByTestId("event"));
    await fireEvent.click(screen.getByTestId("view-all"));
    await waitFor(() => expect(screen.getByTestId("grid").dataset.total).toBe("4"));
    expect(screen.getByTestId("heading").textContent).toBe("All photos & videos");
    // The first page's query has no `event` key at all (it is the one warmStart asked).
    expect(Object.keys(queries.at(-1)!)).not.toContain("event");
  });

  it("today's memories show above All photos & videos, and a card plays in the slideshow", async () => {
    render(App);
    const card = await screen.findByTestId("memory");
    await fireEvent.click(card);
    const show = await screen.findByTestId("slideshow");
    expect(show.getAttribute("aria-label")).toBe("On this day");
    expect(show.dataset.count).toBe("2");
    await fireEvent.keyDown(window, { key: "Escape" });
    // Filtered views have no strip.
    await fireEvent.click(screen.getByTestId("view-photos"));
    await waitFor(() => expect(screen.queryByTestId("memories-strip")).toBeNull());
  });
});

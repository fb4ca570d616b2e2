import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import App from "./App.svelte";
import { photo, video } from "./test/fixtures";
import type { Album, LibraryEvent, MediaItem } from "./lib/api";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn() }));
const mockedInvoke = vi.mocked(invoke);

let albums: Album[];
let items: MediaItem[];
let emit: (e: LibraryEvent) => void = () => {};

beforeEach(() => {
  localStorage.clear();
  albums = [{ id: 1, path: "/data/Demo album", name: "Demo album", online: true, photos: 1, videos: 1, demo: true }];
  items = [video(1), photo(2)];
  vi.mocked(listen).mockImplementation(async (_name, handler) => {
    emit = (payload) => (handler as (e: { payload: LibraryEvent }) => void)({ payload });
    return () => {};
  });
  mockedInvoke.mockReset();
  mockedInvoke.mockImplementation(async (cmd, args) => {
    switch (cmd) {
      case "list_albums":
        return albums;
      case "query_media":
        return { items, total: items.length };
      case "queue_progress":
        return { done: 0, total: 1, failed: 0, queued: 1, running: [], eta_s: null, paused: false };
      case "add_album": {
        // The app opens the folder dialog itself; here the user picks ~/Pictures.
        expect(args).toBeUndefined();
        const a = { id: 2, path: "/home/ann/Pictures", name: "Pics", online: true, photos: 0, videos: 0, demo: false };
        albums = [...albums, a];
        return a;
      }
      case "window_ready":
        return null;
      case "set_queue_paused":
        return { done: 0, total: 1, failed: 0, queued: 1, running: [], eta_s: null, paused: (args as { paused: boolean }).paused };
      default:
        throw new Error(`unexpected ${cmd}`);
    }
  });
});

describe("App", () => {
  it("labels the demo album and offers to add a folder", async () => {
    render(App);
    await waitFor(() => expect(screen.getByTestId("demo-banner")).toBeTruthy());
    expect(screen.getByTestId("album").textContent).toContain("Demo");
    await waitFor(() => expect(screen.getAllByTestId("tile")).toHaveLength(2));
  });

  it("tells the app once that the window has painted, so background work can start", async () => {
    render(App);
    await waitFor(() => expect(mockedInvoke.mock.calls.filter((c) => c[0] === "window_ready")).toHaveLength(1));
    const [, args] = mockedInvoke.mock.calls.find((c) => c[0] === "window_ready")!;
    expect((args as { pageMs: number }).pageMs).toBeGreaterThanOrEqual(0);
    // A refresh rebuilds the grid's pages but is not a second first paint.
    emit({ type: "media_added", id: 3, path: "/data/Demo album/new.mp4" });
    await new Promise((r) => setTimeout(r, 400));
    expect(mockedInvoke.mock.calls.filter((c) => c[0] === "window_ready")).toHaveLength(1);
  });

  it("shows new files without a reload when the watcher reports them", async () => {
    render(App);
    await waitFor(() => expect(screen.getAllByTestId("tile")).toHaveLength(2));
    items = [...items, video(3)];
    emit({ type: "media_added", id: 3, path: "/data/Demo album/new.mp4" });
    await waitFor(() => expect(screen.getAllByTestId("tile")).toHaveLength(3));
  });

  it("looks again once it listens, so changes made while the window loaded are not missed", async () => {
    // The library changes (a command-line folder finishes indexing) after the first
    // query but before the listener is registered: its event went to nobody.
    let registered!: () => void;
    vi.mocked(listen).mockImplementation(
      (_name, handler) =>
        new Promise((resolve) => {
          registered = () => {
            emit = (payload) => (handler as (e: { payload: LibraryEvent }) => void)({ payload });
            resolve(() => {});
          };
        }),
    );
    render(App);
    await waitFor(() => expect(screen.getAllByTestId("tile")).toHaveLength(2));
    items = [...items, video(3), photo(4)];
    registered();
    await waitFor(() => expect(screen.getAllByTestId("tile")).toHaveLength(4));
  });

  it("follows engine progress and pauses it", async () => {
    render(App);
    emit({ type: "progress", done: 1, total: 4, failed: 0, queued: 3, running: ["/a.mp4"], eta_s: 30, paused: false });
    await waitFor(() => expect(screen.getByTestId("progress").dataset.done).toBe("1"));
    expect(screen.getByTestId("progress").textContent).toContain("1 of 4");
    await fireEvent.click(screen.getByTestId("progress-toggle"));
    expect(mockedInvoke).toHaveBeenCalledWith("set_queue_paused", { paused: true });
    await waitFor(() => expect(screen.getByTestId("progress").dataset.paused).toBe("true"));
  });

  it("adds a folder chosen in the native dialog the app opens", async () => {
    render(App);
    await waitFor(() => expect(screen.getByTestId("demo-banner")).toBeTruthy());
    await fireEvent.click(screen.getByTestId("add-folder"));
    await waitFor(() => expect(mockedInvoke).toHaveBeenCalledWith("add_album", undefined));
    await waitFor(() => expect(screen.getAllByTestId("album")).toHaveLength(2));
    expect(screen.queryByTestId("demo-banner")).toBeNull();
  });

  it("shows engine warnings as notices", async () => {
    render(App);
    emit({ type: "warning", message: "Couldn't read /media/usb: permission denied" });
    await waitFor(() => expect(screen.getByTestId("toast").textContent).toContain("permission denied"));
  });
});

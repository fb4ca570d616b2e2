import { act, fireEvent, render, screen } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { invoke } from "@tauri-apps/api/core";
import Slideshow from "./Slideshow.svelte";
import { photo, video } from "../test/fixtures";
import { motionBlobUrl, motionBytes, stubObjectUrls } from "../test/motion";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));
const mockedInvoke = vi.mocked(invoke);

// Taken in this order: photo 1, video 2 (three picks), photo 3.
const items = [photo(3, { taken_at: 300 }), video(2, { taken_at: 200 }), photo(1, { taken_at: 100 })];
const order = [
  "keepsake://localhost/view/1?v=1",
  "keepsake://localhost/frame/2/1?v=1",
  "keepsake://localhost/frame/2/2?v=1",
  "keepsake://localhost/frame/2/3?v=1",
  "keepsake://localhost/view/3?v=1",
];
const slide = () => screen.getByTestId("slide").getAttribute("src");

beforeEach(() => {
  vi.useFakeTimers();
  mockedInvoke.mockReset();
  mockedInvoke.mockResolvedValue(undefined);
});
afterEach(() => vi.useRealTimers());

describe("Slideshow", () => {
  it("advances automatically by date taken and loops", async () => {
    render(Slideshow, { items, interval: 4000 });
    expect(screen.getByTestId("slideshow").dataset.count).toBe("5");
    const seen = [slide()];
    for (let i = 0; i < 5; i++) {
      await act(() => vi.advanceTimersByTime(4000));
      seen.push(slide());
    }
    expect(seen).toEqual([...order, order[0]]);
    expect(mockedInvoke).toHaveBeenCalledWith("plugin:window|set_fullscreen", { label: "main", value: true });
  });

  it("steps with the arrow keys and pauses with space", async () => {
    render(Slideshow, { items, interval: 4000 });
    await fireEvent.keyDown(window, { key: "ArrowRight" });
    expect(slide()).toBe(order[1]);
    await fireEvent.keyDown(window, { key: "ArrowLeft" });
    await fireEvent.keyDown(window, { key: "ArrowLeft" });
    expect(slide()).toBe(order[4]);
    await fireEvent.keyDown(window, { key: " " });
    expect(screen.getByTestId("slideshow").dataset.paused).toBe("true");
    await act(() => vi.advanceTimersByTime(20_000));
    expect(slide()).toBe(order[4]);
    await fireEvent.keyDown(window, { key: " " });
    await act(() => vi.advanceTimersByTime(4000));
    expect(slide()).toBe(order[0]);
  });

  it("leaves full screen on Esc", async () => {
    const onclose = vi.fn();
    const { unmount } = render(Slideshow, { items, onclose });
    await fireEvent.keyDown(window, { key: "Escape" });
    expect(onclose).toHaveBeenCalledOnce();
    unmount();
    expect(mockedInvoke).toHaveBeenLastCalledWith("plugin:window|set_fullscreen", { label: "main", value: false });
  });

  it("shows an override cover first, and exports through the app's save dialog", async () => {
    mockedInvoke.mockImplementation(async (cmd) => (cmd === "export_slideshow" ? "/home/a/Videos/Summer slideshow.mp4" : undefined));
    const onnotice = vi.fn();
    render(Slideshow, { items: [video(5, { cover_kind: "image", cover_version: 3 })], title: "Summer", onnotice });
    expect(slide()).toBe("keepsake://localhost/cover/5?v=3");
    await fireEvent.click(screen.getByTestId("export-mp4"));
    await vi.waitFor(() => expect(onnotice).toHaveBeenCalledWith("Slideshow saved to /home/a/Videos/Summer slideshow.mp4"));
    expect(mockedInvoke).toHaveBeenCalledWith("export_slideshow", { ids: [5], format: "mp4", title: "Summer" });
  });

  it("says nothing when the save dialog is cancelled, and shows why an export failed", async () => {
    let answer: () => Promise<string | null> = async () => null;
    mockedInvoke.mockImplementation(async (cmd) => (cmd === "export_slideshow" ? answer() : undefined));
    const onnotice = vi.fn();
    render(Slideshow, { items: [video(5)], onnotice });
    await fireEvent.click(screen.getByTestId("export-webp"));
    await vi.waitFor(() => expect(mockedInvoke).toHaveBeenCalledWith("export_slideshow", expect.objectContaining({ format: "webp" })));
    await vi.advanceTimersByTimeAsync(20);
    expect(onnotice).not.toHaveBeenCalled();
    answer = async () => {
      throw "the file is in one of your albums";
    };
    await fireEvent.click(screen.getByTestId("export-webp"));
    await vi.waitFor(() => expect(onnotice).toHaveBeenCalledWith("Export failed: the file is in one of your albums"));
  });
});

describe("photos that move", () => {
  // Photo 1 is a Live Photo, photo 3 a motion photo, video 2 an ordinary video.
  const moving = [
    photo(3, { taken_at: 300, motion: "embedded" }),
    video(2, { taken_at: 200 }),
    photo(1, { taken_at: 100, motion: "live" }),
  ];

  beforeEach(() => {
    stubObjectUrls();
    mockedInvoke.mockImplementation(async (cmd, args) => (cmd === "motion_clip" ? motionBytes((args as { id: number }).id) : undefined));
  });
  afterEach(() => vi.unstubAllGlobals());

  it("plays their motion, muted and looped, instead of the still", async () => {
    render(Slideshow, { items: moving, interval: 4000 });
    let s = screen.getByTestId("slide") as HTMLVideoElement;
    expect(s.tagName).toBe("VIDEO");
    await vi.waitFor(() => expect(s.getAttribute("src")).toBe(motionBlobUrl(1)));
    expect(s.getAttribute("poster")).toBe("keepsake://localhost/view/1?v=1");
    expect([s.muted, s.loop]).toEqual([true, true]);
    // The video's picks are still pictures.
    await act(() => vi.advanceTimersByTime(4000));
    expect(screen.getByTestId("slide").tagName).toBe("IMG");
    expect(slide()).toBe("keepsake://localhost/frame/2/1?v=1");
    for (let i = 0; i < 3; i++) await act(() => vi.advanceTimersByTime(4000));
    s = screen.getByTestId("slide") as HTMLVideoElement;
    await vi.waitFor(() => expect(s.getAttribute("src")).toBe(motionBlobUrl(3)));
  });

  it("shows the still when the motion can't be played", async () => {
    render(Slideshow, { items: moving, interval: 4000 });
    await fireEvent(screen.getByTestId("slide"), new Event("error"));
    expect(screen.getByTestId("slide").tagName).toBe("IMG");
    expect(slide()).toBe("keepsake://localhost/view/1?v=1");
  });

  it("shows the still when the motion can't be fetched", async () => {
    mockedInvoke.mockImplementation(async () => {
      throw "no motion for item 9";
    });
    // (Item 9: motions already fetched are kept for the session.)
    render(Slideshow, { items: [photo(9, { taken_at: 100, motion: "live" }), photo(4, { taken_at: 400 })], interval: 4000 });
    await vi.waitFor(() => expect(screen.getByTestId("slide").tagName).toBe("IMG"));
    expect(slide()).toBe("keepsake://localhost/view/9?v=1");
  });

  it("shows stills under reduced motion", () => {
    vi.stubGlobal("matchMedia", (q: string) => ({ matches: q.includes("reduce"), media: q, addEventListener() {}, removeEventListener() {} }));
    render(Slideshow, { items: moving, interval: 4000 });
    expect(screen.getByTestId("slide").tagName).toBe("IMG");
    expect(slide()).toBe("keepsake://localhost/view/1?v=1");
  });
});

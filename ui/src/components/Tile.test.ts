import { act, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import Tile from "./Tile.svelte";
import { photo, video } from "../test/fixtures";
import { invoke } from "@tauri-apps/api/core";
import { motionBlobUrl, motionBytes, stubObjectUrls } from "../test/motion";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));

function activeSrc(): string {
  const img = screen.getByTestId("tile").querySelector("img.active");
  return img?.getAttribute("src") ?? "";
}

describe("video tile", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
    Object.defineProperty(document, "visibilityState", { value: "visible", configurable: true });
  });

  it("cross-fades through its three picks and loops", async () => {
    render(Tile, { item: video(7), interval: 1500 });
    const seen = [activeSrc()];
    for (let i = 0; i < 3; i++) {
      await act(() => vi.advanceTimersByTime(1500));
      seen.push(activeSrc());
    }
    expect(seen).toEqual([
      "keepsake://localhost/tile/7/1?v=1",
      "keepsake://localhost/tile/7/2?v=1",
      "keepsake://localhost/tile/7/3?v=1",
      "keepsake://localhost/tile/7/1?v=1",
    ]);
    // Only one frame is shown at a time.
    expect(screen.getByTestId("tile").querySelectorAll("img.active")).toHaveLength(1);
  });

  it("honours a configured interval", async () => {
    render(Tile, { item: video(7), interval: 3000 });
    await act(() => vi.advanceTimersByTime(1500));
    expect(screen.getByTestId("tile").dataset.frame).toBe("0");
    await act(() => vi.advanceTimersByTime(1500));
    expect(screen.getByTestId("tile").dataset.frame).toBe("1");
  });

  it("shows a still cover under reduced motion", async () => {
    vi.stubGlobal("matchMedia", (q: string) => ({ matches: q.includes("reduce"), media: q, addEventListener() {}, removeEventListener() {} }));
    render(Tile, { item: video(7) });
    await act(() => vi.advanceTimersByTime(6000));
    expect(activeSrc()).toBe("keepsake://localhost/tile/7/1?v=1");
    expect(screen.getByTestId("tile").dataset.looping).toBe("false");
  });

  it("pauses when the window is hidden and resumes when shown", async () => {
    render(Tile, { item: video(7) });
    Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
    await act(() => document.dispatchEvent(new Event("visibilitychange")));
    await act(() => vi.advanceTimersByTime(6000));
    expect(screen.getByTestId("tile").dataset.frame).toBe("0");
    Object.defineProperty(document, "visibilityState", { value: "visible", configurable: true });
    await act(() => document.dispatchEvent(new Event("visibilitychange")));
    await act(() => vi.advanceTimersByTime(1500));
    expect(screen.getByTestId("tile").dataset.frame).toBe("1");
  });

  it("pauses while scrolled off-screen", async () => {
    let notify: ((e: { isIntersecting: boolean }[]) => void) | undefined;
    vi.stubGlobal(
      "IntersectionObserver",
      class {
        constructor(cb: (e: { isIntersecting: boolean }[]) => void) {
          notify = cb;
        }
        observe() {}
        disconnect() {}
      },
    );
    render(Tile, { item: video(7) });
    await act(() => notify?.([{ isIntersecting: false }]));
    await act(() => vi.advanceTimersByTime(6000));
    expect(screen.getByTestId("tile").dataset.frame).toBe("0");
    await act(() => notify?.([{ isIntersecting: true }]));
    await act(() => vi.advanceTimersByTime(1500));
    expect(screen.getByTestId("tile").dataset.frame).toBe("1");
  });

  it("starts from an override cover, then shows the picks", async () => {
    render(Tile, { item: video(7, { cover_kind: "time", cover_version: 4 }) });
    expect(activeSrc()).toBe("keepsake://localhost/tile/7/cover?v=4");
    await act(() => vi.advanceTimersByTime(1500));
    expect(activeSrc()).toBe("keepsake://localhost/tile/7/1?v=4");
  });

  it("badges pending and failed videos, with the reason on hover, and shows the duration", () => {
    const { unmount } = render(Tile, { item: video(1, { state: "failed", error: "not a video: moov atom not found", frame_ranks: [] }) });
    expect(screen.getByTestId("badge").getAttribute("title")).toBe("not a video: moov atom not found");
    expect(screen.getByTestId("duration").textContent).toBe("0:12");
    unmount();
    render(Tile, { item: video(2, { state: "pending", frame_ranks: [] }) });
    expect(screen.getByTestId("badge").textContent).toContain("Analysing");
  });
});

describe("photo tile", () => {
  it("shows the photo thumbnail and never loops", () => {
    render(Tile, { item: photo(3) });
    const tile = screen.getByTestId("tile");
    expect(tile.dataset.mediaId).toBe("3");
    expect(tile.querySelector("img")?.getAttribute("src")).toBe("keepsake://localhost/photo/3?v=1");
    expect(tile.dataset.looping).toBe("false");
  });

  it("says an unreadable photo is unreadable and why, without asking for its picture", () => {
    const item = { ...photo(3), path: "/album/IMG_1.HEIC", state: "failed" as const,
      error: "/album/IMG_1.HEIC: the image could not be decoded (truncated)" };
    render(Tile, { item });
    const tile = screen.getByTestId("tile");
    expect(tile.querySelector("img")).toBeNull();
    expect(screen.getByTestId("badge").textContent).toContain("Unreadable");
    expect(screen.getByTestId("badge").getAttribute("title")).toBe(item.error);
    expect(screen.getByTestId("reason").textContent).toBe("the image could not be decoded (truncated)");
  });

  it("loads the 256-px copies when the tile is that small", () => {
    render(Tile, { item: photo(3), small: true });
    expect(screen.getByTestId("tile").querySelector("img")?.getAttribute("src")).toBe("keepsake://localhost/small/photo/3?v=1");
  });

  it("lets go of its image when it leaves the grid", () => {
    const { unmount } = render(Tile, { item: photo(3) });
    const img = screen.getByTestId("tile").querySelector("img") as HTMLImageElement;
    expect(img.getAttribute("src")).toBe("keepsake://localhost/photo/3?v=1");
    unmount();
    // A detached element that still pointed at the image would keep it decoded until
    // the next garbage collection.
    expect(img.hasAttribute("src")).toBe(false);
  });
});

describe("photo that moves", () => {
  beforeEach(() => {
    stubObjectUrls();
    vi.mocked(invoke).mockImplementation(async (cmd, args) => (cmd === "motion_clip" ? motionBytes((args as { id: number }).id) : undefined));
  });
  afterEach(() => vi.unstubAllGlobals());
  const live = (id: number) => ({ ...photo(id), name: `IMG_${id}.HEIC`, motion: "live" as const });

  function motionVideo(): HTMLVideoElement | null {
    return screen.getByTestId("tile").querySelector("video");
  }

  it("shows the still with a LIVE badge, and plays the motion muted and looped while hovered", async () => {
    render(Tile, { item: live(5) });
    const tile = screen.getByTestId("tile");
    expect(tile.querySelector("img")?.getAttribute("src")).toBe("keepsake://localhost/photo/5?v=1");
    expect(screen.getByTestId("motion-badge").textContent).toContain("LIVE");
    expect(motionVideo(), "no video until asked for").toBeNull();
    await fireEvent.pointerEnter(tile);
    const v = motionVideo();
    await waitFor(() => expect(v?.getAttribute("src")).toBe(motionBlobUrl(5)));
    expect(v?.muted).toBe(true);
    expect(v?.loop).toBe(true);
    expect(tile.dataset.playing).toBe("true");
    // The still stays under it until the video has a picture.
    expect(v?.classList.contains("shown")).toBe(false);
    await fireEvent(v!, new Event("playing"));
    expect(v?.classList.contains("shown")).toBe(true);
    await fireEvent.pointerLeave(tile);
    expect(motionVideo()).toBeNull();
    expect(tile.querySelector("img")).not.toBeNull();
  });

  it("plays on keyboard focus too, and stops on blur", async () => {
    render(Tile, { item: { ...photo(6), motion: "embedded" as const } });
    const tile = screen.getByTestId("tile");
    expect(screen.getByTestId("motion-badge").textContent).toContain("MOTION");
    await fireEvent.focus(tile);
    await waitFor(() => expect(motionVideo()?.getAttribute("src")).toBe(motionBlobUrl(6)));
    await fireEvent.blur(tile);
    expect(motionVideo()).toBeNull();
  });

  it("does not play under reduced motion, but still says it moves", async () => {
    vi.stubGlobal("matchMedia", (q: string) => ({ matches: q.includes("reduce"), media: q, addEventListener() {}, removeEventListener() {} }));
    render(Tile, { item: live(5) });
    const tile = screen.getByTestId("tile");
    await fireEvent.pointerEnter(tile);
    await fireEvent.focus(tile);
    expect(motionVideo()).toBeNull();
    expect(tile.dataset.playing).toBe("false");
    expect(screen.getByTestId("motion-badge")).toBeTruthy();
  });

  it("a plain photo has no badge and nothing to play", async () => {
    render(Tile, { item: photo(3) });
    const tile = screen.getByTestId("tile");
    await fireEvent.pointerEnter(tile);
    expect(motionVideo()).toBeNull();
    expect(screen.queryByTestId("motion-badge")).toBeNull();
    expect(tile.dataset.motion).toBe("none");
  });
});

import { act, fireEvent, render, screen } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { invoke } from "@tauri-apps/api/core";
import Viewer from "./Viewer.svelte";
import type { MediaItem, MediaPage } from "../lib/api";
import { photo, video } from "../test/fixtures";
import { motionBlobUrl, motionBytes, stubObjectUrls } from "../test/motion";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));
const mockedInvoke = vi.mocked(invoke);

/** The grid's order: 130 items, every third a video (ids 1000 + index). */
const order: MediaItem[] = Array.from({ length: 130 }, (_, i) => (i % 3 === 2 ? video(1000 + i) : photo(1000 + i)));
function gridSource(items = order) {
  const asked: [number, number][] = [];
  const source = vi.fn(async (offset: number, limit: number): Promise<MediaPage> => {
    asked.push([offset, limit]);
    return { items: items.slice(offset, offset + limit), total: items.length };
  });
  return { source, asked };
}

const viewer = () => screen.getByTestId("viewer");
const shownId = () => Number(viewer().dataset.id);
const key = (k: string, extra: Partial<KeyboardEventInit> = {}) => fireEvent.keyDown(window, { key: k, ...extra });

/** jsdom lays nothing out: the stage is 1000x800 and pictures say their own size. It
 * has no PointerEvent either: a mouse event with a pointer id stands in. */
function layout() {
  if (typeof window.PointerEvent === "undefined") {
    class PointerEvent extends MouseEvent {
      pointerId: number;
      constructor(type: string, init: PointerEventInit = {}) {
        super(type, init);
        this.pointerId = init.pointerId ?? 1;
      }
    }
    vi.stubGlobal("PointerEvent", PointerEvent);
  }
  vi.spyOn(HTMLElement.prototype, "clientWidth", "get").mockReturnValue(1000);
  vi.spyOn(HTMLElement.prototype, "clientHeight", "get").mockReturnValue(800);
}
async function pictureArrives(width: number, height: number) {
  const img = (await screen.findByTestId("viewer-image")) as HTMLImageElement;
  Object.defineProperty(img, "naturalWidth", { value: width });
  Object.defineProperty(img, "naturalHeight", { value: height });
  await fireEvent.load(img);
  return img;
}

beforeEach(() => {
  mockedInvoke.mockReset();
  mockedInvoke.mockResolvedValue(undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe("Viewer", () => {
  it("opens at the grid's index and steps through the grid's order, fetching neighbours by offset", async () => {
    const { source, asked } = gridSource();
    render(Viewer, { source, total: 130, index: 48 });
    await vi.waitFor(() => expect(shownId()).toBe(1048));
    expect(screen.getByTestId("viewer-count").textContent).toBe("49 / 130");
    // Item 49 is the last of the first page: its neighbour 50 comes from the next one.
    await key("ArrowRight");
    expect(shownId()).toBe(1049);
    await key("ArrowRight");
    await vi.waitFor(() => expect(shownId()).toBe(1050));
    expect(asked).toContainEqual([0, 50]);
    expect(asked).toContainEqual([50, 50]);
    await key("ArrowLeft");
    await key("ArrowLeft");
    await key("ArrowLeft");
    expect(shownId()).toBe(1047);
    // End and Home, across pages; no step past either end.
    await key("End");
    await vi.waitFor(() => expect(shownId()).toBe(1129));
    expect(asked).toContainEqual([100, 50]);
    await key("ArrowRight");
    expect(viewer().dataset.index).toBe("129");
    expect((screen.getByTestId("viewer-next") as HTMLButtonElement).disabled).toBe(true);
    await key("Home");
    expect(shownId()).toBe(1000);
    await key("ArrowLeft");
    expect(shownId()).toBe(1000);
    // Each page was asked for once.
    expect(new Set(asked.map(([o]) => o)).size).toBe(asked.length);
  });

  it("closes on Esc with the index it ended on", async () => {
    const { source } = gridSource();
    const onclose = vi.fn();
    render(Viewer, { source, total: 130, index: 10, onclose });
    await vi.waitFor(() => expect(shownId()).toBe(1010));
    await key("ArrowRight");
    await key("ArrowRight");
    await key("Escape");
    expect(onclose).toHaveBeenCalledExactlyOnceWith(12);
    await fireEvent.click(screen.getByTestId("viewer-close"));
    expect(onclose).toHaveBeenLastCalledWith(12);
  });

  it("shows a photo's screen-size copy, the grid copy until it arrives, and asks for the next one ahead", async () => {
    const asked: string[] = [];
    vi.stubGlobal(
      "Image",
      class {
        set src(v: string) {
          asked.push(v);
        }
        removeAttribute() {}
      },
    );
    const { source } = gridSource();
    render(Viewer, { source, total: 130, index: 0 });
    const img = (await screen.findByTestId("viewer-image")) as HTMLImageElement;
    expect(img.getAttribute("src")).toBe("keepsake://localhost/view/1000?v=1");
    expect(img.alt).toBe("img1000.jpg");
    const placeholder = screen.getAllByRole("presentation", { hidden: true }).find((e) => e.tagName === "IMG");
    expect(placeholder?.getAttribute("src")).toBe("keepsake://localhost/photo/1000?v=1");
    await vi.waitFor(() => expect(asked).toContain("keepsake://localhost/view/1001?v=1"));
    // Next is a video: its cover is what shows first.
    await key("ArrowRight");
    await vi.waitFor(() => expect(asked).toContain("keepsake://localhost/cover/1002?v=1"));
    vi.unstubAllGlobals();
  });

  it("plays a video with sound and controls, its cover shown until it plays, and says so when it can't", async () => {
    const { source } = gridSource();
    render(Viewer, { source, total: 130, index: 2 });
    const v = (await screen.findByTestId("viewer-video")) as HTMLVideoElement;
    expect(v.getAttribute("src")).toBe("keepsake://localhost/video/1002");
    expect(v.getAttribute("poster")).toBe("keepsake://localhost/cover/1002?v=1");
    expect(v.controls).toBe(true);
    expect(v.muted).toBe(false);
    expect(v.getAttribute("aria-label")).toBe("clip1002.mp4");
    await fireEvent.error(v);
    expect(screen.queryByTestId("viewer-video")).toBeNull();
    expect(screen.getByTestId("viewer-error").textContent).toContain("can't be played in the window");
    expect(screen.getByAltText("clip1002.mp4").getAttribute("src")).toBe("keepsake://localhost/cover/1002?v=1");
    // The next video starts afresh.
    await key("ArrowRight");
    await key("ArrowRight");
    await key("ArrowRight");
    expect(shownId()).toBe(1005);
    expect(screen.getByTestId("viewer-video")).toBeTruthy();
  });

  it("says why a photo can't be shown", async () => {
    const items = [photo(1, { state: "failed", error: "truncated JPEG" }), photo(2)];
    const { source } = gridSource(items);
    render(Viewer, { source, total: 2, index: 0 });
    await vi.waitFor(() => expect(screen.getByTestId("viewer-error").textContent).toBe("truncated JPEG"));
    expect(screen.queryByTestId("viewer-image")).toBeNull();
    await key("ArrowRight");
    const img = await screen.findByTestId("viewer-image");
    await fireEvent.error(img);
    expect(screen.getByTestId("viewer-error").textContent).toBe("This photo can't be shown.");
  });

  it("fits a photo, toggles 1:1 with double-click and `1`, zooms with the wheel and pans by dragging", async () => {
    layout();
    const { source } = gridSource();
    render(Viewer, { source, total: 130, index: 0 });
    const img = await pictureArrives(4000, 3000);
    expect(img.dataset.scale).toBe("0.2500");
    expect(img.style.transform).toBe("translate(0px, 25px) scale(0.25)");
    expect(viewer().dataset.zoomed).toBe("false");
    const stage = img.parentElement as HTMLElement;

    await fireEvent.dblClick(stage, { clientX: 500, clientY: 400 });
    expect(img.dataset.scale).toBe("1.0000");
    expect(viewer().dataset.zoomed).toBe("true");
    expect(screen.getByTestId("viewer-zoom").textContent).toBe("Fit");
    // The picture's centre stayed under the pointer: (2000, 1500) at (500, 400).
    expect(img.style.transform).toBe("translate(-1500px, -1100px) scale(1)");

    // Drag 100 px right and 50 down.
    await fireEvent.pointerDown(stage, { pointerId: 1, clientX: 500, clientY: 400 });
    await fireEvent.pointerMove(stage, { pointerId: 1, clientX: 600, clientY: 450 });
    await fireEvent.pointerUp(stage, { pointerId: 1, clientX: 600, clientY: 450 });
    expect(img.style.transform).toBe("translate(-1400px, -1050px) scale(1)");

    await key("1");
    expect(img.dataset.scale).toBe("0.2500");
    await key("1");
    expect(img.dataset.scale).toBe("1.0000");
    await fireEvent.click(screen.getByTestId("viewer-zoom"));
    expect(img.dataset.scale).toBe("0.2500");

    // A wheel notch up zooms in by 1.25 about the pointer; down at fit does nothing.
    await fireEvent.wheel(stage, { deltaY: -100, clientX: 100, clientY: 100 });
    expect(img.dataset.scale).toBe("0.3125");
    await fireEvent.wheel(stage, { deltaY: 300, clientX: 100, clientY: 100 });
    expect(img.dataset.scale).toBe("0.2500");

    // A step shows the next item at fit.
    await key("ArrowRight");
    const next = await pictureArrives(800, 600);
    expect(next.dataset.scale).toBe("1.0000");
    expect(next.style.transform).toBe("translate(100px, 100px) scale(1)");
  });

  it("pinches with two pointers", async () => {
    layout();
    const { source } = gridSource();
    render(Viewer, { source, total: 130, index: 0 });
    const img = await pictureArrives(4000, 3000);
    const stage = img.parentElement as HTMLElement;
    await fireEvent.pointerDown(stage, { pointerId: 1, clientX: 400, clientY: 400 });
    await fireEvent.pointerDown(stage, { pointerId: 2, clientX: 600, clientY: 400 });
    await fireEvent.pointerMove(stage, { pointerId: 2, clientX: 800, clientY: 400 });
    expect(img.dataset.scale).toBe("0.5000");
  });

  it("shows the facts with `i` and the info button", async () => {
    const items = [photo(1, { name: "beach.heic", size: 3_400_000, width: 4032, height: 3024, taken_at: Date.UTC(2021, 7, 12, 12) / 1000 })];
    const { source } = gridSource(items);
    render(Viewer, { source, total: 1, index: 0 });
    await vi.waitFor(() => expect(shownId()).toBe(1));
    expect(screen.queryByTestId("viewer-info")).toBeNull();
    await key("i");
    const info = screen.getByTestId("viewer-info").textContent ?? "";
    expect(info).toContain("beach.heic");
    expect(info).toContain("2021");
    expect(info).toContain("3.2 MB");
    expect(info).toContain("4032 × 3024");
    await fireEvent.click(screen.getByTestId("viewer-info-toggle"));
    expect(screen.queryByTestId("viewer-info")).toBeNull();
  });

  it("takes focus, keeps Tab inside, and names every control", async () => {
    const outside = document.createElement("button");
    outside.textContent = "behind";
    document.body.append(outside);
    outside.focus();
    const { source } = gridSource();
    const { unmount } = render(Viewer, { source, total: 130, index: 1 });
    await vi.waitFor(() => expect(shownId()).toBe(1001));
    expect(document.activeElement).toBe(viewer());
    expect(viewer().getAttribute("aria-modal")).toBe("true");
    const buttons = [...viewer().querySelectorAll("button")];
    for (const b of buttons) expect(b.getAttribute("aria-label"), b.outerHTML).toBeTruthy();
    const enabled = buttons.filter((b) => !b.disabled);
    enabled[enabled.length - 1].focus();
    await key("Tab");
    expect(document.activeElement).toBe(enabled[0]);
    await key("Tab", { shiftKey: true });
    expect(document.activeElement).toBe(enabled[enabled.length - 1]);
    // Closed with nothing else taking focus: it goes back where it was.
    unmount();
    await vi.waitFor(() => expect(document.activeElement).toBe(outside));
    outside.remove();
  });

  it("plays a moving photo's motion once, muted, and again with sound on request", async () => {
    stubObjectUrls();
    mockedInvoke.mockImplementation(async (cmd, args) => (cmd === "motion_clip" ? motionBytes((args as { id: number }).id) : undefined));
    const items = [photo(7, { motion: "live" })];
    const { source } = gridSource(items);
    render(Viewer, { source, total: 1, index: 0 });
    const v = (await screen.findByTestId("viewer-motion")) as HTMLVideoElement;
    await vi.waitFor(() => expect(v.getAttribute("src")).toBe(motionBlobUrl(7)));
    expect(v.muted).toBe(true);
    await fireEvent.ended(v);
    expect(screen.queryByTestId("viewer-motion")).toBeNull();
    await fireEvent.click(screen.getByTestId("viewer-motion-play"));
    await act(() => Promise.resolve());
    const again = (await screen.findByTestId("viewer-motion")) as HTMLVideoElement;
    expect(again.muted).toBe(false);
    vi.unstubAllGlobals();
  });

  it("shows stills under reduced motion", async () => {
    vi.stubGlobal("matchMedia", (q: string) => ({ matches: q.includes("reduce"), media: q, addEventListener() {}, removeEventListener() {} }));
    const { source } = gridSource([photo(8, { motion: "embedded" })]);
    render(Viewer, { source, total: 1, index: 0 });
    await screen.findByTestId("viewer-image");
    expect(screen.queryByTestId("viewer-motion")).toBeNull();
    expect(screen.getByTestId("viewer-image").classList.contains("animate")).toBe(false);
    vi.unstubAllGlobals();
  });
});

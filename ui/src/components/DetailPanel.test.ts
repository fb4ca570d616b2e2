import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { invoke } from "@tauri-apps/api/core";
import DetailPanel from "./DetailPanel.svelte";
import { detail } from "../test/fixtures";
import { motionBlobUrl, motionBytes, stubObjectUrls } from "../test/motion";
import type { CoverChoice, MediaDetail } from "../lib/api";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));
const mockedInvoke = vi.mocked(invoke);

let current = detail(42);
/** What the user picks in the app's image dialog (null: cancels). */
let chosenImage: string | null = null;
/** What `media_detail` fails with, when it does (as the app sends it: code and message). */
let gone: { code: string; message: string } | null = null;

beforeEach(() => {
  stubObjectUrls();
  current = detail(42);
  chosenImage = null;
  gone = null;
  mockedInvoke.mockReset();
  mockedInvoke.mockImplementation(async (cmd, args) => {
    const a = args as { id: number; choice?: CoverChoice };
    if (cmd === "media_detail") {
      if (gone) throw gone;
      return current;
    }
    if (cmd === "motion_clip") return motionBytes(a.id);
    if (cmd === "video_base") return "http://127.0.0.1:4321/s3cr3t";
    if (cmd === "choose_cover_image") {
      if (chosenImage === null) return null;
      throw { code: "unreadable", message: `Not an image Keepsake can read: ${chosenImage}` };
    }
    if (cmd === "set_cover") {
      const c = a.choice!;
      if ("image" in c) throw "an image cover is chosen in the dialog";
      current = { ...current, cover_version: current.cover_version + 1, cover_kind: "pick" in c ? "pick" : "time", cover: "pick" in c ? { kind: "pick", rank: c.pick, time: null, path: null, version: 2 } : { kind: "time", rank: null, time: c.time, path: null, version: 2 } };
      return current;
    }
    if (cmd === "reset_cover") {
      current = detail(42);
      return current;
    }
    throw new Error(`unexpected ${cmd}`);
  });
});

async function ready() {
  render(DetailPanel, { id: 42 });
  await waitFor(() => expect(screen.getAllByTestId("pick")).toHaveLength(3));
}

describe("when the item cannot be shown", () => {
  it("closes, with a word, when the item is no longer in the library (code not_found)", async () => {
    gone = { code: "not_found", message: "no media with id 42" };
    const onclose = vi.fn();
    const onnotice = vi.fn();
    render(DetailPanel, { id: 42, onclose, onnotice });
    await waitFor(() => expect(onclose).toHaveBeenCalledOnce());
    expect(onnotice).toHaveBeenCalledWith("That item is no longer in your albums.");
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("shows any other failure's message in the panel", async () => {
    gone = { code: "database", message: "database error: disk I/O error" };
    const onclose = vi.fn();
    render(DetailPanel, { id: 42, onclose });
    await waitFor(() => expect(screen.getByRole("alert").textContent).toBe("database error: disk I/O error"));
    expect(onclose).not.toHaveBeenCalled();
  });
});

describe("where the date comes from", () => {
  it("says nothing when the file has a date of its own", async () => {
    await ready();
    expect(screen.queryByTestId("date-note")).toBeNull();
  });

  it("says when the date is only the file's time, and when it hasn't been read yet", async () => {
    current = detail(42, { taken_source: "file_time" });
    await ready();
    expect(screen.getByTestId("date-note").textContent).toContain("has no date of its own");
    current = detail(43, { taken_source: "not_read_yet", kind: "photo" });
    render(DetailPanel, { id: 43 });
    await waitFor(() => expect(screen.getAllByTestId("date-note")).toHaveLength(2));
    expect(screen.getAllByTestId("date-note")[1].textContent).toContain("hasn't been read yet");
  });
});

describe("how the video is shown", () => {
  it("lists what the engine did to the pictures (HDR, fields, pixel shape)", async () => {
    current = detail(42, { picture: ["HDR (HLG), tone-mapped to SDR", "interlaced, deinterlaced"] });
    await ready();
    const notes = screen.getByTestId("picture-notes");
    expect(notes.textContent).toContain("HDR (HLG), tone-mapped to SDR");
    expect(notes.querySelectorAll("li")).toHaveLength(2);
  });

  it("says nothing for plain video", async () => {
    await ready();
    expect(screen.queryByTestId("picture-notes")).toBeNull();
  });
});

describe("DetailPanel", () => {
  it("plays the video from the app's loopback server, and says so when it can't", async () => {
    const onnotice = vi.fn();
    render(DetailPanel, { id: 42, onnotice });
    await waitFor(() => expect(screen.getAllByTestId("pick")).toHaveLength(3));
    await fireEvent.click(screen.getByTestId("play"));
    const player = (await screen.findByTestId("player")) as HTMLVideoElement;
    expect(player.getAttribute("src")).toBe("http://127.0.0.1:4321/s3cr3t/video/42");
    expect(player.controls).toBe(true);
    await fireEvent(player, new Event("error"));
    expect(screen.queryByTestId("player")).toBeNull();
    expect(onnotice).toHaveBeenCalledWith("This video can't be played in the window; its covers still work.");
  });

  it("shows the three picks with their scores and reasons", async () => {
    await ready();
    expect(mockedInvoke).toHaveBeenCalledWith("media_detail", { id: 42 });
    expect(screen.getAllByTestId("pick-score").map((e) => e.textContent)).toEqual(["87", "74", "61"]);
    expect(screen.getAllByTestId("pick-reason")[0].textContent).toBe("Two faces, sharp, well exposed");
    expect(screen.getAllByTestId("pick")[0].textContent).toContain("2 faces");
    expect(screen.getAllByTestId("pick")[0].textContent).toContain("Scene 3 of 4");
    // Pick 1 is the automatic cover, so it cannot be chosen again.
    const buttons = screen.getAllByTestId("use-pick") as HTMLButtonElement[];
    expect(buttons.map((b) => b.disabled)).toEqual([true, false, false]);
  });

  it("draws the quality curve and marks the rejected stretches", async () => {
    await ready();
    const timeline = screen.getByTestId("timeline");
    const d = timeline.querySelector("[data-testid=curve]")?.getAttribute("d") ?? "";
    expect(d.split(/[ML]/).filter(Boolean)).toHaveLength(7);
    const rejected = [...timeline.querySelectorAll("[data-testid=rejected]")].map((r) => r.getAttribute("data-reason"));
    expect(rejected).toEqual(["black", "motion_blur"]);
    // The black stretch runs from the start to halfway towards the first good candidate.
    const black = timeline.querySelector("[data-reason=black]")!;
    expect(Number(black.getAttribute("x"))).toBe(0);
    expect(Number(black.getAttribute("width"))).toBeCloseTo((1.75 / 12.4) * 1000, 0);
  });

  it("uses a pick as cover through set_cover", async () => {
    await ready();
    await fireEvent.click(screen.getAllByTestId("use-pick")[1]);
    expect(mockedInvoke).toHaveBeenCalledWith("set_cover", { id: 42, choice: { pick: 2 } });
    await waitFor(() => expect(screen.getByTestId("cover-kind").dataset.kind).toBe("pick"));
    expect((screen.getAllByTestId("use-pick")[1] as HTMLButtonElement).textContent?.trim()).toBe("Current cover");
  });

  it("previews a scrubbed moment and uses it as cover", async () => {
    await ready();
    const slider = screen.getByRole("slider");
    await fireEvent.keyDown(slider, { key: "End" });
    expect(screen.getByTestId("stage-image").getAttribute("src")).toBe("keepsake://localhost/moment/42/12400");
    await fireEvent.keyDown(slider, { key: "ArrowLeft", shiftKey: true });
    await fireEvent.click(screen.getByTestId("use-moment"));
    const call = mockedInvoke.mock.calls.find((c) => c[0] === "set_cover")!;
    expect((call[1] as { choice: { time: number } }).choice.time).toBeCloseTo(7.4, 5);
    await waitFor(() => expect(screen.getByTestId("cover-kind").dataset.kind).toBe("time"));
  });

  it("asks the app to open the image dialog and shows its refusal inline", async () => {
    chosenImage = "/tmp/notes.txt";
    await ready();
    await fireEvent.click(screen.getByTestId("upload"));
    await waitFor(() => expect(screen.getByTestId("cover-error").textContent).toBe("Not an image Keepsake can read: /tmp/notes.txt"));
    expect(mockedInvoke).toHaveBeenCalledWith("choose_cover_image", { id: 42 });
    expect(mockedInvoke.mock.calls.some((c) => c[0] === "set_cover")).toBe(false);
    expect(screen.getByTestId("cover-kind").dataset.kind).toBe("auto");
  });

  it("says nothing when the image dialog is cancelled, and offers no path field", async () => {
    await ready();
    await fireEvent.click(screen.getByTestId("upload"));
    await waitFor(() => expect(mockedInvoke).toHaveBeenCalledWith("choose_cover_image", { id: 42 }));
    expect(screen.queryByTestId("cover-error")).toBeNull();
    expect(screen.queryByTestId("cover-path")).toBeNull();
  });

  it("resets to automatic", async () => {
    await ready();
    await fireEvent.click(screen.getAllByTestId("use-pick")[2]);
    await waitFor(() => expect((screen.getByTestId("reset") as HTMLButtonElement).disabled).toBe(false));
    await fireEvent.click(screen.getByTestId("reset"));
    expect(mockedInvoke).toHaveBeenCalledWith("reset_cover", { id: 42 });
    await waitFor(() => expect(screen.getByTestId("cover-kind").dataset.kind).toBe("auto"));
  });
});

describe("a photo that moves", () => {
  const stillOf = (over: Partial<MediaDetail>): MediaDetail =>
    detail(42, { kind: "photo", name: "IMG_0042.HEIC", path: "/albums/IMG_0042.HEIC", duration: null, frame_ranks: [], frames: [], curve: [], ...over });

  async function shown() {
    render(DetailPanel, { id: 42 });
    await waitFor(() => expect(screen.getByTestId("detail-close")).toBeTruthy());
    await waitFor(() => expect(screen.queryByTestId("stage-image") ?? screen.queryByTestId("motion-player")).toBeTruthy());
  }

  it("plays a Live Photo's motion muted and looped, and once with sound on request", async () => {
    current = stillOf({ motion: "live", motion_path: "/albums/IMG_0042.MOV" });
    await shown();
    let v = screen.getByTestId("motion-player") as HTMLVideoElement;
    await waitFor(() => expect(v.getAttribute("src")).toBe(motionBlobUrl(42)));
    expect(v.getAttribute("poster")).toBe("keepsake://localhost/photo/42?v=1");
    expect([v.muted, v.loop]).toEqual([true, true]);
    expect(screen.getByTestId("motion-kind").textContent).toBe("Live Photo");
    expect(screen.getByTestId("motion-path").textContent).toContain("/albums/IMG_0042.MOV");
    await fireEvent.click(screen.getByTestId("motion-sound"));
    v = screen.getByTestId("motion-player") as HTMLVideoElement;
    expect([v.muted, v.loop]).toEqual([false, false]);
    expect(screen.queryByTestId("motion-sound")).toBeNull();
    // Once through, back to the silent loop.
    await fireEvent(v, new Event("ended"));
    v = screen.getByTestId("motion-player") as HTMLVideoElement;
    expect([v.muted, v.loop]).toEqual([true, true]);
    expect(screen.getByTestId("motion-sound")).toBeTruthy();
  });

  it("plays a motion photo's embedded video, with no sound button", async () => {
    current = stillOf({ motion: "embedded" });
    await shown();
    const v = screen.getByTestId("motion-player") as HTMLVideoElement;
    await waitFor(() => expect(v.getAttribute("src")).toBe(motionBlobUrl(42)));
    expect(screen.getByTestId("motion-kind").textContent).toBe("Motion photo");
    expect(screen.queryByTestId("motion-sound")).toBeNull();
  });

  it("waits to be asked under reduced motion", async () => {
    vi.stubGlobal("matchMedia", (q: string) => ({ matches: q.includes("reduce"), media: q, addEventListener() {}, removeEventListener() {} }));
    try {
      current = stillOf({ motion: "live" });
      await shown();
      expect(screen.queryByTestId("motion-player")).toBeNull();
      expect(screen.getByTestId("stage-image").getAttribute("src")).toBe("keepsake://localhost/photo/42?v=1");
      await fireEvent.click(screen.getByTestId("motion-play"));
      expect(screen.getByTestId("motion-player")).toBeTruthy();
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("shows the still and says why when a motion photo's video was not usable", async () => {
    current = stillOf({ motion: null, motion_note: "motion photo's video offset points past the end of the file (5 of 5 bytes)" });
    await shown();
    expect(screen.queryByTestId("motion-player")).toBeNull();
    expect(screen.getByTestId("stage-image")).toBeTruthy();
    expect(screen.getByTestId("motion-note").textContent).toContain("offset points past the end");
  });

  it("falls back to the still when the motion can't be played", async () => {
    current = stillOf({ motion: "embedded" });
    await shown();
    await fireEvent(screen.getByTestId("motion-player"), new Event("error"));
    expect(screen.queryByTestId("motion-player")).toBeNull();
    expect(screen.getByTestId("stage-image")).toBeTruthy();
    expect(screen.getByTestId("motion-failed")).toBeTruthy();
  });
});

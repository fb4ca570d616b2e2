import { fireEvent, render, screen } from "@testing-library/svelte";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { invoke } from "@tauri-apps/api/core";
import EventsView, { eventCounts, eventDates } from "./EventsView.svelte";
import EventName from "./EventName.svelte";
import type { AlbumEvent } from "../lib/api";
import { photo, video } from "../test/fixtures";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));
const mockedInvoke = vi.mocked(invoke);

/** Noon UTC on a day, in unix seconds (noon: the same date in every time zone nearby). */
const at = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d, 12) / 1000;

function event(id: number, over: Partial<AlbumEvent> = {}): AlbumEvent {
  return { id, name: "", named: false, start_at: at(2021, 8, 12), end_at: at(2021, 8, 14), count: 3, photos: 2, videos: 1, cover: photo(10 + id), ...over };
}

// As the library lists them: newest first.
const listed = [
  event(3, { name: "12–14 Aug 2021", cover: video(30, { cover_version: 4 }) }),
  event(2, { name: "Granny's birthday", named: true, start_at: at(2021, 3, 3), end_at: at(2021, 3, 3), photos: 1, videos: 0, count: 1 }),
  event(1, { name: "30 Dec 2019 – 2 Jan 2020", start_at: at(2019, 12, 30), end_at: at(2020, 1, 2), photos: 12, videos: 0, count: 12, cover: null }),
];

beforeEach(() => {
  mockedInvoke.mockReset();
});

describe("EventsView", () => {
  it("lists events newest first under their years, with cover, name, dates and counts", async () => {
    mockedInvoke.mockImplementation(async (cmd) => (cmd === "list_events" ? listed : undefined));
    render(EventsView, { root: null });
    const cards = await screen.findAllByTestId("event");
    expect(mockedInvoke).toHaveBeenCalledWith("list_events", { root: null });
    expect(cards.map((c) => c.dataset.id)).toEqual(["3", "2", "1"]);
    expect(screen.getAllByRole("heading", { level: 2 }).map((h) => h.textContent)).toEqual(["2021", "2019"]);
    expect(screen.getAllByTestId("event-name").map((n) => n.textContent)).toEqual(["12–14 Aug 2021", "Granny's birthday", "30 Dec 2019 – 2 Jan 2020"]);
    // A video's cover is its grid-size cover; a photo's its grid copy; no cover, no image.
    expect(cards[0].querySelector("img")?.getAttribute("src")).toBe("keepsake://localhost/tile/30/cover?v=4");
    expect(cards[1].querySelector("img")?.getAttribute("src")).toBe("keepsake://localhost/photo/12?v=1");
    expect(cards[2].querySelector("img")).toBeNull();
    // A named event still says when it was; a date-named one does not say it twice.
    expect(cards[1].textContent).toContain(eventDates(listed[1]));
    expect(cards[0].querySelector(".dates")).toBeNull();
    expect(cards[0].textContent).toContain("2 photos · 1 video");
    expect(cards[2].textContent).toContain("12 photos");
    expect(cards[1].getAttribute("aria-label")).toBe(`Granny's birthday, ${eventDates(listed[1])}, 1 photo`);
  });

  it("opens an event", async () => {
    mockedInvoke.mockResolvedValue(listed);
    const onopen = vi.fn();
    render(EventsView, { root: 5, onopen });
    const cards = await screen.findAllByTestId("event");
    expect(mockedInvoke).toHaveBeenCalledWith("list_events", { root: 5 });
    await fireEvent.click(cards[1]);
    expect(onopen).toHaveBeenCalledExactlyOnceWith(listed[1]);
  });

  it("says when there are none, and why listing failed", async () => {
    mockedInvoke.mockResolvedValueOnce([]);
    const { unmount } = render(EventsView, {});
    expect(await screen.findByTestId("events-empty")).toBeTruthy();
    unmount();
    mockedInvoke.mockRejectedValueOnce({ code: "database", message: "database is locked" });
    const onnotice = vi.fn();
    render(EventsView, { onnotice });
    await vi.waitFor(() => expect(onnotice).toHaveBeenCalledWith("Couldn't list events: database is locked"));
  });

  it("formats dates and counts", () => {
    const same = eventDates({ start_at: at(2021, 8, 3), end_at: at(2021, 8, 3) + 3600 });
    expect(same).not.toContain("–");
    expect(same).toContain("2021");
    expect(eventDates({ start_at: at(2020, 12, 30), end_at: at(2021, 1, 2) })).toMatch(/2020 – .*2021/);
    expect(eventCounts({ photos: 0, videos: 2 })).toBe("2 videos");
    expect(eventCounts({ photos: 1, videos: 1 })).toBe("1 photo · 1 video");
  });
});

describe("renaming an event", () => {
  it("renames with Enter, and the library's answer becomes the heading", async () => {
    const renamed = { ...listed[0], name: "Summer at the lake", named: true };
    mockedInvoke.mockImplementation(async (cmd) => (cmd === "rename_event" ? renamed : undefined));
    const onrenamed = vi.fn();
    const { rerender } = render(EventName, { event: listed[0], onrenamed });
    expect(screen.getByTestId("heading").textContent).toBe("12–14 Aug 2021");
    await fireEvent.click(screen.getByRole("button", { name: "Rename event" }));
    const input = screen.getByTestId("event-name-input") as HTMLInputElement;
    expect(document.activeElement).toBe(input);
    // A date name is not offered as text to edit.
    expect(input.value).toBe("");
    await fireEvent.input(input, { target: { value: "  Summer at the lake " } });
    await fireEvent.keyDown(input, { key: "Enter" });
    await vi.waitFor(() => expect(onrenamed).toHaveBeenCalledExactlyOnceWith(renamed));
    expect(mockedInvoke).toHaveBeenCalledWith("rename_event", { id: 3, name: "Summer at the lake" });
    await rerender({ event: renamed, onrenamed });
    expect(screen.getByTestId("heading").textContent).toBe("Summer at the lake");
    expect(document.activeElement).toBe(screen.getByTestId("event-rename"));
  });

  it("an empty name gives it back its dates; Esc or an unchanged name asks nothing", async () => {
    const back = { ...listed[1], name: "3 Mar 2021", named: false };
    mockedInvoke.mockImplementation(async (cmd) => (cmd === "rename_event" ? back : undefined));
    const onrenamed = vi.fn();
    render(EventName, { event: listed[1], onrenamed });
    await fireEvent.click(screen.getByTestId("event-rename"));
    let input = screen.getByTestId("event-name-input") as HTMLInputElement;
    expect(input.value).toBe("Granny's birthday");
    await fireEvent.input(input, { target: { value: "Something else" } });
    await fireEvent.keyDown(input, { key: "Escape" });
    expect(screen.queryByTestId("event-name-input")).toBeNull();
    await fireEvent.click(screen.getByTestId("event-rename"));
    input = screen.getByTestId("event-name-input") as HTMLInputElement;
    await fireEvent.keyDown(input, { key: "Enter" });
    expect(mockedInvoke).not.toHaveBeenCalled();
    await fireEvent.click(screen.getByTestId("event-rename"));
    input = screen.getByTestId("event-name-input") as HTMLInputElement;
    await fireEvent.input(input, { target: { value: "   " } });
    await fireEvent.keyDown(input, { key: "Enter" });
    await vi.waitFor(() => expect(onrenamed).toHaveBeenCalledWith(back));
    expect(mockedInvoke).toHaveBeenCalledExactlyOnceWith("rename_event", { id: 2, name: null });
  });

  it("keeps the field and says why when the rename fails", async () => {
    mockedInvoke.mockRejectedValue({ code: "not_found", message: "no event 2" });
    const onnotice = vi.fn();
    const onrenamed = vi.fn();
    render(EventName, { event: listed[1], onrenamed, onnotice });
    await fireEvent.click(screen.getByTestId("event-rename"));
    const input = screen.getByTestId("event-name-input") as HTMLInputElement;
    await fireEvent.input(input, { target: { value: "Party" } });
    await fireEvent.keyDown(input, { key: "Enter" });
    await vi.waitFor(() => expect(onnotice).toHaveBeenCalledWith("Couldn't rename the event: no event 2"));
    expect(onrenamed).not.toHaveBeenCalled();
    expect(screen.getByTestId("event-name-input")).toBeTruthy();
  });
});

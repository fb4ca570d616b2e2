import { act, fireEvent, render, screen } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { invoke } from "@tauri-apps/api/core";
import Memories from "./Memories.svelte";
import type { Memory } from "../lib/api";
import { photo, video } from "../test/fixtures";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));
const mockedInvoke = vi.mocked(invoke);

function memory(key: string, kind: Memory["kind"], title: string, over: Partial<Memory> = {}): Memory {
  const items = [photo(1), video(2), photo(3)];
  return { key, kind, title, subtitle: "30 Nov 2023 · 3 photos & videos", cover: items[0], items, ...over };
}

const onThisDay = memory("on-this-day-2023-11-30", "on_this_day", "On this day");
const yearsAgo = memory("years-ago-3-2026-w48", "years_ago", "3 years ago this week", { cover: video(9, { cover_version: 2 }) });
const best2021 = memory("best-of-2021", "best_of_year", "Best of 2021");
const best2020 = memory("best-of-2020", "best_of_year", "Best of 2020");

function answer(list: Memory[]) {
  mockedInvoke.mockImplementation(async (cmd) => (cmd === "list_memories" ? list : undefined));
}

beforeEach(() => {
  mockedInvoke.mockReset();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("Memories", () => {
  it("the strip shows today's memories only, in the library's order, and plays one", async () => {
    answer([onThisDay, yearsAgo, best2021, best2020]);
    const onplay = vi.fn();
    render(Memories, { strip: true, onplay });
    const cards = await screen.findAllByTestId("memory");
    expect(cards.map((c) => c.dataset.key)).toEqual(["on-this-day-2023-11-30", "years-ago-3-2026-w48"]);
    expect(screen.getByTestId("memories-strip").getAttribute("aria-label")).toBe("Today's memories");
    expect(cards[0].getAttribute("aria-label")).toBe("Play On this day, 30 Nov 2023 · 3 photos & videos");
    expect(cards[0].querySelector("img")?.getAttribute("src")).toBe("keepsake://localhost/photo/1?v=1");
    expect(cards[1].querySelector("img")?.getAttribute("src")).toBe("keepsake://localhost/tile/9/cover?v=2");
    await fireEvent.click(cards[1]);
    expect(onplay).toHaveBeenCalledExactlyOnceWith(yearsAgo);
  });

  it("the strip is not there when today has no memories (Best of is every day), nor when listing fails", async () => {
    answer([best2021]);
    const { unmount } = render(Memories, { strip: true });
    await vi.waitFor(() => expect(mockedInvoke).toHaveBeenCalledWith("list_memories", undefined));
    await act(() => Promise.resolve());
    expect(screen.queryByTestId("memories-strip")).toBeNull();
    expect(screen.queryByTestId("memory")).toBeNull();
    unmount();
    mockedInvoke.mockRejectedValue("no database");
    const onnotice = vi.fn();
    render(Memories, { strip: true, onnotice });
    await act(() => Promise.resolve());
    expect(screen.queryByTestId("memories-strip")).toBeNull();
    expect(onnotice).not.toHaveBeenCalled();
  });

  it("the page shows all of them: today's, then the best of each year", async () => {
    answer([onThisDay, best2021, best2020]);
    const onplay = vi.fn();
    render(Memories, { onplay });
    const cards = await screen.findAllByTestId("memory");
    expect(cards.map((c) => c.dataset.key)).toEqual(["on-this-day-2023-11-30", "best-of-2021", "best-of-2020"]);
    expect(screen.getAllByRole("heading", { level: 2 }).map((h) => h.textContent)).toEqual(["Today", "Best of each year"]);
    expect(screen.getByTestId("memories").dataset.count).toBe("3");
    await fireEvent.click(cards[2]);
    expect(onplay).toHaveBeenCalledWith(best2020);
  });

  it("the page says when there are none, and why listing failed", async () => {
    answer([]);
    const { unmount } = render(Memories, {});
    expect(await screen.findByTestId("memories-empty")).toBeTruthy();
    unmount();
    mockedInvoke.mockRejectedValue({ code: "database", message: "database is locked" });
    const onnotice = vi.fn();
    render(Memories, { onnotice });
    await vi.waitFor(() => expect(onnotice).toHaveBeenCalledWith("Couldn't list memories: database is locked"));
  });

  it("asks again on a refresh, at most every five seconds", async () => {
    vi.useFakeTimers();
    answer([onThisDay]);
    const { rerender } = render(Memories, { strip: true, refreshToken: 0 });
    await vi.advanceTimersByTimeAsync(0);
    expect(mockedInvoke).toHaveBeenCalledTimes(1);
    mockedInvoke.mockClear();
    answer([onThisDay, yearsAgo]);
    await rerender({ strip: true, refreshToken: 1 });
    await rerender({ strip: true, refreshToken: 2 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(mockedInvoke).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(4100);
    expect(mockedInvoke).toHaveBeenCalledTimes(1);
    expect(screen.getAllByTestId("memory")).toHaveLength(2);
  });
});

import { fireEvent, render, screen } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import Scrubber from "./Scrubber.svelte";
import { buildLayout, scrubLabel, sectionAtY, yAtFraction, yearTicks } from "../lib/timeline";

// jsdom has no PointerEvent: a MouseEvent with a pointer id stands in (what WebKit sends
// carries the same clientY and button).
if (typeof globalThis.PointerEvent === "undefined") {
  class PointerEventShim extends MouseEvent {
    pointerId: number;
    constructor(type: string, init: PointerEventInit = {}) {
      super(type, init);
      this.pointerId = init.pointerId ?? 1;
    }
  }
  (globalThis as unknown as { PointerEvent: unknown }).PointerEvent = PointerEventShim;
}

// Ten years of months, 500 items each, 5 columns: every year is a tenth of the track.
const months = [];
for (let y = 2024; y >= 2015; y--) for (let m = 12; m >= 1; m--) months.push({ key: `${y}-${String(m).padStart(2, "0")}`, count: 500 });
const L = buildLayout(months, 60_000, 5, 206, 44);
const labelAt = (f: number) => scrubLabel(L.keys[sectionAtY(L, yAtFraction(L, f))], "en-GB");

function setup() {
  const onscrub = vi.fn();
  const onstep = vi.fn();
  render(Scrubber, { ticks: yearTicks(L), position: 0, valueText: "December 2024", labelAt, onscrub, onstep });
  const el = screen.getByTestId("scrubber");
  // jsdom lays nothing out: a 600-px track from y = 100.
  el.getBoundingClientRect = () => ({ top: 100, bottom: 700, height: 600, left: 0, right: 52, width: 52, x: 0, y: 100, toJSON: () => ({}) });
  return { el, onscrub, onstep };
}

describe("Scrubber", () => {
  it("is a named slider whose value reads as the month in view", () => {
    const { el } = setup();
    expect(el.getAttribute("role")).toBe("slider");
    expect(el.getAttribute("aria-label")).toMatch(/timeline/i);
    expect(el.getAttribute("aria-valuetext")).toBe("December 2024");
    expect(el.getAttribute("aria-valuenow")).toBe("0");
    expect(screen.getAllByTestId("scrubber-year").map((t) => t.dataset.year)).toEqual(["2024", "2023", "2022", "2021", "2020", "2019", "2018", "2017", "2016", "2015"]);
  });

  it("maps a press and a drag to track fractions, labelling the month under the pointer", async () => {
    const { el, onscrub } = setup();
    // 70 % down: the fourth month of 2017 from the top (newest first), September 2017.
    await fireEvent.pointerDown(el, { button: 0, clientY: 100 + 0.7 * 600, pointerId: 1 });
    expect(onscrub).toHaveBeenLastCalledWith(0.7);
    expect(screen.getByTestId("scrubber-label").textContent).toBe(labelAt(0.7));
    expect(labelAt(0.7)).toBe("December 2017");
    await fireEvent.pointerMove(el, { clientY: 100 + 0.75 * 600, pointerId: 1 });
    expect(onscrub).toHaveBeenLastCalledWith(0.75);
    expect(screen.getByTestId("scrubber-label").textContent).toBe("June 2017");
    // Past the ends: clamped.
    await fireEvent.pointerMove(el, { clientY: 2000, pointerId: 1 });
    expect(onscrub).toHaveBeenLastCalledWith(1);
    await fireEvent.pointerUp(el, { pointerId: 1 });
    expect(el.dataset.dragging).toBe("false");
    // Hovering after the drag shows the label but jumps nowhere.
    const calls = onscrub.mock.calls.length;
    await fireEvent.pointerMove(el, { clientY: 100 + 0.1 * 600, pointerId: 1 });
    expect(onscrub.mock.calls.length).toBe(calls);
    expect(screen.getByTestId("scrubber-label").textContent).toBe("December 2023");
    await fireEvent.pointerLeave(el);
    expect(screen.queryByTestId("scrubber-label")).toBeNull();
  });

  it("steps by section with arrows and by year with Page keys, Home/End to the ends", async () => {
    const { el, onstep, onscrub } = setup();
    await fireEvent.keyDown(el, { key: "ArrowDown" });
    expect(onstep).toHaveBeenLastCalledWith(1, "section");
    await fireEvent.keyDown(el, { key: "ArrowUp" });
    expect(onstep).toHaveBeenLastCalledWith(-1, "section");
    await fireEvent.keyDown(el, { key: "PageDown" });
    expect(onstep).toHaveBeenLastCalledWith(1, "year");
    await fireEvent.keyDown(el, { key: "PageUp" });
    expect(onstep).toHaveBeenLastCalledWith(-1, "year");
    await fireEvent.keyDown(el, { key: "End" });
    expect(onscrub).toHaveBeenLastCalledWith(1);
    await fireEvent.keyDown(el, { key: "Home" });
    expect(onscrub).toHaveBeenLastCalledWith(0);
  });
});

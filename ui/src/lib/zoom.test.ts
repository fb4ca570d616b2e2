import { describe, expect, it } from "vitest";
import { MAX_SCALE, clampPan, fit, fitScale, isFit, panBy, toggleActual, wheelFactor, zoomAt, type Zoom } from "./zoom";

const view = { width: 1000, height: 800 };
const photo = { width: 4000, height: 3000 };

/** The picture pixel under view point (px, py). */
const under = (z: Zoom, px: number, py: number) => [(px - z.x) / z.scale, (py - z.y) / z.scale];

describe("zoom", () => {
  it("fits a large picture whole and centred, and never enlarges a small one", () => {
    expect(fitScale(photo, view)).toBe(0.25);
    expect(fit(photo, view)).toEqual({ scale: 0.25, x: 0, y: 25 });
    // Portrait: height decides.
    expect(fit({ width: 1600, height: 3200 }, view)).toEqual({ scale: 0.25, x: 300, y: 0 });
    expect(fit({ width: 200, height: 100 }, view)).toEqual({ scale: 1, x: 400, y: 350 });
    // Before anything is measured, nothing divides by zero.
    expect(fitScale(photo, { width: 0, height: 0 })).toBe(1);
  });

  it("keeps the point under the pointer where it is", () => {
    const start = fit(photo, view);
    const before = under(start, 300, 200);
    const z = zoomAt(start, 2, 300, 200, photo, view);
    expect(z.scale).toBe(0.5);
    const after = under(z, 300, 200);
    expect(after[0]).toBeCloseTo(before[0], 6);
    expect(after[1]).toBeCloseTo(before[1], 6);
    // And again from there, towards another point.
    const z2 = zoomAt(z, 3, 700, 500, photo, view);
    expect(under(z2, 700, 500)[0]).toBeCloseTo(under(z, 700, 500)[0], 6);
    expect(under(z2, 700, 500)[1]).toBeCloseTo(under(z, 700, 500)[1], 6);
  });

  it("stays between fit and the most zoom, and zooming out ends centred", () => {
    const start = fit(photo, view);
    expect(zoomAt(start, 0.1, 500, 400, photo, view)).toEqual(start);
    expect(zoomAt(start, 1000, 10, 10, photo, view).scale).toBe(MAX_SCALE);
    const z = zoomAt(zoomAt(start, 4, 900, 700, photo, view), 0.25, 10, 10, photo, view);
    expect(z).toEqual(start);
    expect(isFit(z, photo, view)).toBe(true);
  });

  it("pans no further than the picture's edges", () => {
    const z = { scale: 1, x: 0, y: 0 };
    expect(panBy(z, 50, 50, photo, view)).toEqual({ scale: 1, x: 0, y: 0 });
    expect(panBy(z, -10_000, -10_000, photo, view)).toEqual({ scale: 1, x: -3000, y: -2200 });
    expect(panBy(z, -120, -40, photo, view)).toEqual({ scale: 1, x: -120, y: -40 });
    // A side the picture does not fill stays centred whatever the drag.
    const wide = { width: 4000, height: 400 };
    expect(clampPan({ scale: 1, x: -100, y: -300 }, wide, view)).toEqual({ scale: 1, x: -100, y: 200 });
  });

  it("toggles between fit and 1:1 about the pointer", () => {
    const start = fit(photo, view);
    const actual = toggleActual(start, 500, 400, photo, view);
    expect(actual.scale).toBe(1);
    expect(under(actual, 500, 400)[0]).toBeCloseTo(under(start, 500, 400)[0], 6);
    expect(toggleActual(actual, 500, 400, photo, view)).toEqual(start);
    // Zoomed some other way, the toggle goes back to fit too.
    expect(toggleActual(zoomAt(start, 3, 0, 0, photo, view), 0, 0, photo, view)).toEqual(start);
  });

  it("turns wheel notches into steady steps and trackpad deltas into small ones", () => {
    expect(wheelFactor(-100)).toBeCloseTo(1.25, 6);
    expect(wheelFactor(100)).toBeCloseTo(0.8, 6);
    expect(wheelFactor(-3, 1)).toBeCloseTo(Math.pow(1.25, 1.2), 6);
    expect(wheelFactor(-4)).toBeGreaterThan(1);
    expect(wheelFactor(-4)).toBeLessThan(1.01);
    expect(wheelFactor(-100_000)).toBeCloseTo(Math.pow(1.25, 3), 6);
  });
});

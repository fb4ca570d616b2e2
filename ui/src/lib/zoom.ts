// The full-window viewer's zoom and pan, as plain arithmetic so it can be tested without
// a layout engine. A picture of `image` pixels is drawn at `translate(x, y) scale(scale)`
// (origin top left) inside a `view` of CSS pixels. "Fit" shows it whole, never enlarged;
// zooming keeps the point under the pointer where it is; panning never shows more empty
// border than fit would.

export interface Size {
  width: number;
  height: number;
}

export interface Zoom {
  scale: number;
  x: number;
  y: number;
}

/** How far the viewer zooms in: 8 picture pixels to a CSS pixel. */
export const MAX_SCALE = 8;

/** The scale at which the whole picture shows: as large as the view allows, at most 1:1. */
export function fitScale(image: Size, view: Size): number {
  if (image.width <= 0 || image.height <= 0 || view.width <= 0 || view.height <= 0) return 1;
  return Math.min(view.width / image.width, view.height / image.height, 1);
}

/** The picture whole and centred. */
export function fit(image: Size, view: Size): Zoom {
  return clampPan({ scale: fitScale(image, view), x: 0, y: 0 }, image, view);
}

/** Whether `z` shows the picture at fit (within rounding). */
export function isFit(z: Zoom, image: Size, view: Size): boolean {
  return Math.abs(z.scale - fitScale(image, view)) < 1e-6;
}

/** Keeps the picture where it may be: centred along a side it does not fill, else with
 * no border on that side (its edges no further in than the view's). */
export function clampPan(z: Zoom, image: Size, view: Size): Zoom {
  const axis = (offset: number, length: number, room: number) => {
    const drawn = length * z.scale;
    if (drawn <= room) return (room - drawn) / 2;
    return Math.min(0, Math.max(room - drawn, offset));
  };
  return { scale: z.scale, x: axis(z.x, image.width, view.width), y: axis(z.y, image.height, view.height) };
}

/** Zooms by `factor` about the view point (`px`, `py`), between fit and [`MAX_SCALE`]. */
export function zoomAt(z: Zoom, factor: number, px: number, py: number, image: Size, view: Size): Zoom {
  const min = fitScale(image, view);
  const max = Math.max(min, MAX_SCALE);
  const scale = Math.min(max, Math.max(min, z.scale * factor));
  const k = scale / z.scale;
  // The picture point under (px, py) stays under it: px = x + u*s = x' + u*s'.
  return clampPan({ scale, x: px - (px - z.x) * k, y: py - (py - z.y) * k }, image, view);
}

/** Moves the picture by (dx, dy) CSS pixels (a drag), within [`clampPan`]. */
export function panBy(z: Zoom, dx: number, dy: number, image: Size, view: Size): Zoom {
  return clampPan({ scale: z.scale, x: z.x + dx, y: z.y + dy }, image, view);
}

/** Double-click or `1`: from fit to one picture pixel per CSS pixel about (px, py), and
 * from any other zoom back to fit. A picture smaller than the view is already 1:1. */
export function toggleActual(z: Zoom, px: number, py: number, image: Size, view: Size): Zoom {
  if (!isFit(z, image, view)) return fit(image, view);
  return zoomAt(z, 1 / z.scale, px, py, image, view);
}

/** The zoom factor of one wheel event: a notch of a mouse wheel (~100 px) is x1.25 either
 * way; trackpads and pinches (ctrl+wheel) send small deltas and zoom smoothly. */
export function wheelFactor(deltaY: number, deltaMode = 0): number {
  const px = deltaMode === 1 ? deltaY * 40 : deltaMode === 2 ? deltaY * 800 : deltaY;
  const clamped = Math.max(-300, Math.min(300, px));
  return Math.pow(1.25, -clamped / 100);
}

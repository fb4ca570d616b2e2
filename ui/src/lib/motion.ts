// Whether the user asked the system for less motion: tiles then show a still cover and
// the slideshow cuts instead of panning.
export function prefersReducedMotion(): boolean {
  return typeof window !== "undefined" && typeof window.matchMedia === "function"
    ? window.matchMedia("(prefers-reduced-motion: reduce)").matches
    : false;
}

/** Whether the window is currently shown (loops pause while it is hidden). */
export function documentVisible(): boolean {
  return typeof document === "undefined" || document.visibilityState !== "hidden";
}

/**
 * Calls `measure` whenever `el` changes size (ResizeObserver where the web view has it,
 * else the window's resize event); returns the function that stops watching, so it can
 * be an `$effect`'s cleanup. The caller measures once itself (some do it untracked).
 */
export function watchSize(el: Element, measure: () => void): () => void {
  if (typeof ResizeObserver === "undefined") {
    window.addEventListener("resize", measure);
    return () => window.removeEventListener("resize", measure);
  }
  const ro = new ResizeObserver(measure);
  ro.observe(el);
  return () => ro.disconnect();
}

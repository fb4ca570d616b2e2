// Turns album items into slides: by date taken, each photo once (its screen-size copy,
// up to 2560 px long, as the full-window viewer shows it: the 512-px grid copy looks soft
// on a TV), each video by its cover and then its other best picks. A photo that moves (Live Photo, motion photo) carries
// its motion, which the slideshow plays instead of the still.
import { coverUrl, frameUrl, viewUrl, type MediaItem } from "./api";

export interface Slide {
  key: string;
  src: string;
  item: MediaItem;
  /** The item whose motion plays instead of the still (`src` stays its poster and fallback). */
  motion?: number;
}

/** The slides for a slideshow of `items`, oldest first. */
export function buildSlides(items: MediaItem[], picksPerVideo = 3): Slide[] {
  const sorted = [...items].sort((a, b) => a.taken_at - b.taken_at || a.name.localeCompare(b.name));
  const slides: Slide[] = [];
  for (const item of sorted) {
    if (item.kind === "photo") {
      if (item.state === "failed" || item.state === "missing") continue;
      const slide: Slide = { key: `p${item.id}`, src: viewUrl(item.id, item.cover_version), item };
      if (item.motion) slide.motion = item.id;
      slides.push(slide);
      continue;
    }
    const ranks = [...item.frame_ranks].sort((a, b) => a - b);
    if (item.cover_kind === "auto") {
      for (const r of ranks.slice(0, picksPerVideo)) slides.push({ key: `v${item.id}-${r}`, src: frameUrl(item.id, r, item.cover_version), item });
    } else {
      slides.push({ key: `v${item.id}-c`, src: coverUrl(item.id, item.cover_version), item });
      for (const r of ranks.slice(0, Math.max(0, picksPerVideo - 1))) slides.push({ key: `v${item.id}-${r}`, src: frameUrl(item.id, r, item.cover_version), item });
    }
  }
  return slides;
}

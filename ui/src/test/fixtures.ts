// Test data shaped exactly like the app's JSON (the library's serde output).
import type { MediaDetail, MediaItem } from "../lib/api";

export function video(id: number, over: Partial<MediaItem> = {}): MediaItem {
  return {
    id,
    root_id: 1,
    path: `/albums/summer/clip${id}.mp4`,
    name: `clip${id}.mp4`,
    kind: "video",
    state: "ready",
    error: null,
    size: 1_000_000,
    duration: 12.4,
    width: 1280,
    height: 720,
    taken_at: 1_700_000_000 + id,
    frame_ranks: [1, 2, 3],
    cover_kind: "auto",
    cover_version: 1,
    ...over,
  };
}

export function photo(id: number, over: Partial<MediaItem> = {}): MediaItem {
  return { ...video(id), path: `/albums/summer/img${id}.jpg`, name: `img${id}.jpg`, kind: "photo", duration: null, frame_ranks: [], ...over };
}

export function detail(id: number, over: Partial<MediaDetail> = {}): MediaDetail {
  return {
    ...video(id),
    rotation: 0,
    codec: "h264",
    picture: [],
    taken_source: "container",
    frames: [
      { rank: 1, path: `/data/frames/${id}/1.jpg`, time: 7.2, score: 0.87, width: 1280, height: 720, reasons: { sharpness: 0.9, exposure: 0.8, faces: 2, scene: 3, scenes: 4, summary: "Two faces, sharp, well exposed" } },
      { rank: 2, path: `/data/frames/${id}/2.jpg`, time: 2.5, score: 0.74, width: 1280, height: 720, reasons: { sharpness: 0.7, exposure: 0.9, faces: 0, scene: 1, scenes: 4, summary: "Wide shot of the beach" } },
      { rank: 3, path: `/data/frames/${id}/3.jpg`, time: 10.1, score: 0.61, width: 1280, height: 720, reasons: { sharpness: 0.6, exposure: 0.7, faces: 0, scene: 4, scenes: 4, summary: "Sunset" } },
    ],
    curve: [
      { time: 0, quality: 0, rejected: "black" },
      { time: 1, quality: 0, rejected: "black" },
      { time: 2.5, quality: 0.74, rejected: null },
      { time: 5, quality: 0, rejected: "motion_blur" },
      { time: 7.2, quality: 0.87, rejected: null },
      { time: 10.1, quality: 0.61, rejected: null },
      { time: 12, quality: 0.3, rejected: null },
    ],
    cover: { kind: "auto", rank: 1, time: 7.2, path: `/data/covers/${id}.jpg`, version: 1 },
    ...over,
  };
}

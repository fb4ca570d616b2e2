// The motion of a Live Photo or motion photo reaches the page as bytes (`motion_clip`)
// played from a blob URL. In tests the bytes of item `id` are `id` bytes long, and the
// blob URL names that length, so a test can tell which item's motion a video plays.
import { vi } from "vitest";

/** What `motion_clip` answers for item `id`. */
export function motionBytes(id: number): ArrayBuffer {
  return new ArrayBuffer(id);
}

/** The URL a video plays once item `id`'s motion has arrived. */
export function motionBlobUrl(id: number): string {
  return `blob:motion-${id}`;
}

/** jsdom has no object URLs: blobs get `motionBlobUrl(their size)`. */
export function stubObjectUrls(): void {
  vi.stubGlobal("URL", Object.assign(Object.create(URL), URL, {
    createObjectURL: (b: Blob) => motionBlobUrl(b.size),
    revokeObjectURL: () => {},
  }));
}

// Small display helpers shared by the grid, the detail panel and the slideshow.

/** "0:07", "12:03", "1:02:03": how long a video runs, as a badge. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return "";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/** A timeline position with tenths: "0:07.4". */
export function formatMoment(seconds: number): string {
  const whole = Math.floor(seconds);
  const tenth = Math.floor((seconds - whole) * 10);
  return `${formatDuration(whole)}.${tenth}`;
}

/** "12 March 2024" for a unix time in seconds. */
export function formatDate(unixSeconds: number): string {
  if (!unixSeconds) return "";
  return new Date(unixSeconds * 1000).toLocaleDateString(undefined, { day: "numeric", month: "long", year: "numeric" });
}

/** 0.873 → "87". */
export function percent(value: number | undefined | null): string {
  if (value == null || !Number.isFinite(value)) return "–";
  return String(Math.round(value * 100));
}

/** Counts with a thin space as thousands separator: 100 000. */
export function formatCount(n: number): string {
  return n.toLocaleString(undefined);
}

/** A library message without the file's path in front ("/a/b.heic: truncated" → "truncated"): the tile already is that file. */
export function withoutPath(message: string, path: string): string {
  const prefix = `${path}: `;
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}

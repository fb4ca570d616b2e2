// The UI's only door to the app: typed wrappers over Tauri commands. Tests mock
// `@tauri-apps/api/core` here, at the IPC boundary, and nowhere else.
import { invoke } from "@tauri-apps/api/core";

export type AssetStatus = "ok" | "missing" | "checksum_mismatch";

export interface RuntimeReport {
  ffmpeg: { avformat: string; avcodec: string; avutil: string; swscale: string };
  onnxruntime: string | null;
  onnxruntime_problem: string | null;
  manifest: string;
  assets: { name: string; group: string; path: string; status: AssetStatus }[];
}

export interface AppInfo {
  version: string;
  data_dir: string;
  runtime: RuntimeReport;
  complete: boolean;
}

/** Engine set-up and data directory, as `keepsake doctor` reports them. */
export function appInfo(): Promise<AppInfo> {
  return invoke<AppInfo>("app_info");
}

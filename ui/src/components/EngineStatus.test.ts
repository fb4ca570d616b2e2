import { render, screen } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import EngineStatus from "./EngineStatus.svelte";
import type { AppInfo } from "../lib/api";

const base: AppInfo = {
  version: "0.1.0",
  data_dir: "/home/a/.local/share/keepsake",
  complete: true,
  runtime: {
    ffmpeg: { avformat: "59.27.100", avcodec: "59.37.100", avutil: "57.28.100", swscale: "6.7.100" },
    onnxruntime: "/x/libonnxruntime.so.1.31.1",
    onnxruntime_problem: null,
    manifest: "/x/models/manifest.toml",
    assets: [
      { name: "onnxruntime", group: "runtime", path: "/x/lib", status: "ok" },
      { name: "blazeface-front", group: "models", path: "/x/a.onnx", status: "ok" },
      { name: "blazeface-back", group: "models", path: "/x/b.onnx", status: "checksum_mismatch" },
    ],
  },
};

describe("EngineStatus", () => {
  it("shows each model's state and only models", () => {
    render(EngineStatus, { info: base });
    const models = screen.getAllByTestId("model").map((e) => e.textContent);
    expect(models).toEqual(["ready", "corrupt"]);
    expect(screen.getByTestId("ffmpeg").textContent).toContain("59.37.100");
  });

  it("says why face detection is unavailable", () => {
    const info = { ...base, runtime: { ...base.runtime, onnxruntime: null, onnxruntime_problem: "no ONNX Runtime library at /nope" } };
    render(EngineStatus, { info });
    expect(screen.getByTestId("onnxruntime").textContent).toContain("no ONNX Runtime library at /nope");
  });
});

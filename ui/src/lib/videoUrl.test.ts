import { beforeEach, describe, expect, it, vi } from "vitest";
import { invoke } from "@tauri-apps/api/core";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));
const mockedInvoke = vi.mocked(invoke);

/** A fresh copy of the module: what it learnt of the video server is per page load. */
async function freshApi() {
  vi.resetModules();
  return await import("./api");
}

describe("videoUrl", () => {
  beforeEach(() => {
    mockedInvoke.mockReset();
    vi.spyOn(console, "warn").mockImplementation(() => {});
  });

  it("names the loopback server's URL once the app has said where it is, asking once", async () => {
    mockedInvoke.mockImplementation(async (cmd) => (cmd === "video_base" ? "http://127.0.0.1:40123/0a1b2c" : null));
    const api = await freshApi();
    expect(api.videoUrl(7)).toBe("keepsake://localhost/video/7");
    const [a, b] = await Promise.all([api.loadVideoBase(), api.loadVideoBase()]);
    expect([a, b]).toEqual(["http://127.0.0.1:40123/0a1b2c", "http://127.0.0.1:40123/0a1b2c"]);
    expect(api.videoUrl(7)).toBe("http://127.0.0.1:40123/0a1b2c/video/7");
    await api.loadVideoBase();
    expect(mockedInvoke.mock.calls.filter((c) => c[0] === "video_base")).toHaveLength(1);
  });

  it("asks again after a failure, and never takes an address off this computer", async () => {
    let answer: string | null = null;
    mockedInvoke.mockImplementation(async (cmd) => {
      if (cmd !== "video_base") return null;
      if (answer === null) throw { code: "io", message: "could not listen on 127.0.0.1" };
      return answer;
    });
    const api = await freshApi();
    expect(await api.loadVideoBase()).toBeNull();
    expect(api.videoUrl(3)).toBe("keepsake://localhost/video/3");
    answer = "http://evil.example:80/x";
    expect(await api.loadVideoBase()).toBeNull();
    expect(api.videoUrl(3)).toBe("keepsake://localhost/video/3");
    expect(mockedInvoke.mock.calls.filter((c) => c[0] === "video_base")).toHaveLength(2);
  });
});

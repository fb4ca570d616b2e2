import { beforeEach, describe, expect, it, vi } from "vitest";
import { invoke } from "@tauri-apps/api/core";
import { GRID_PAGE, listAlbums, queryMedia, warmStart } from "./api";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));
const mockedInvoke = vi.mocked(invoke);

describe("warmStart", () => {
  beforeEach(() => {
    mockedInvoke.mockReset();
    let n = 0;
    mockedInvoke.mockImplementation(async (cmd) => ({ cmd, answer: ++n }));
  });

  it("asks for the first screen once; the grid and the sidebar take those answers", async () => {
    warmStart("name");
    expect(mockedInvoke.mock.calls.map((c) => c[0])).toEqual(["query_media", "list_albums", "queue_progress"]);
    // The grid's own first request, with its keys in another order, is the one asked early.
    const page = await queryMedia({ sort: "name", limit: GRID_PAGE, offset: 0, search: null, kind: null, root: null });
    expect(page).toEqual({ cmd: "query_media", answer: 1 });
    expect(await listAlbums()).toEqual({ cmd: "list_albums", answer: 2 });
    expect(mockedInvoke).toHaveBeenCalledTimes(3);
    // Each early answer is used once: asking again asks the app.
    expect(await listAlbums()).toEqual({ cmd: "list_albums", answer: 4 });
  });

  it("does not answer a different query with the early page", async () => {
    warmStart("taken_desc");
    const page = await queryMedia({ sort: "taken_desc", limit: GRID_PAGE, offset: GRID_PAGE, search: null, kind: null, root: null });
    expect(page).toEqual({ cmd: "query_media", answer: 4 });
  });
});

// File and folder names are data from the disk, never markup: a tile and the detail
// panel show names holding HTML, quotes, a newline, %, _ and \ as the text they are
// (Svelte escapes text and attributes; these tests keep anyone from adding {@html}).
import { render, screen, waitFor } from "@testing-library/svelte";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { invoke } from "@tauri-apps/api/core";
import Tile from "./Tile.svelte";
import DetailPanel from "./DetailPanel.svelte";
import { detail, photo, video } from "../test/fixtures";
import { stubObjectUrls } from "../test/motion";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));

const NAMES = [
  `<img src=x onerror=alert(1)>.jpg`,
  `it's "quoted".jpg`,
  `new\nline.jpg`,
  `100%_done\\.jpg`,
  `<script>window.pwned = 1</script>.mp4`,
  // What a name that is not UTF-8 would look like if one ever crossed (lossy).
  `bad \uFFFD name.jpg`,
];
const FOLDER = `/albums/<b onclick="x()">a%_b\\c</b>`;

function noInjectedMarkup(root: Element) {
  expect(root.querySelector("script, b, img[src='x']")).toBeNull();
  expect((window as unknown as { pwned?: number }).pwned).toBeUndefined();
}

describe("hostile names", () => {
  beforeEach(() => stubObjectUrls());

  for (const name of NAMES) {
    it(`a tile shows ${JSON.stringify(name)} as text`, () => {
      const item = name.endsWith(".mp4") ? video(7, { name, path: `${FOLDER}/${name}` }) : photo(7, { name, path: `${FOLDER}/${name}` });
      render(Tile, { item });
      const tile = screen.getByTestId("tile");
      expect(tile.getAttribute("title")).toBe(name);
      noInjectedMarkup(tile);
    });

    it(`the detail panel shows ${JSON.stringify(name)} as text`, async () => {
      const current = detail(42, { name, path: `${FOLDER}/${name}` });
      vi.mocked(invoke).mockReset();
      vi.mocked(invoke).mockImplementation(async (cmd) => {
        if (cmd === "media_detail") return current;
        throw new Error(`unexpected ${cmd}`);
      });
      const { container } = render(DetailPanel, { id: 42 });
      const heading = await waitFor(() => {
        const h = container.querySelector("h2");
        expect(h?.textContent).toBe(name);
        return h!;
      });
      expect(heading.getAttribute("title")).toBe(`${FOLDER}/${name}`);
      noInjectedMarkup(container);
    });
  }
});

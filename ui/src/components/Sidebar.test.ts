import { render, screen } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import Sidebar from "./Sidebar.svelte";
import type { Album } from "../lib/api";

function album(id: number, over: Partial<Album> = {}): Album {
  return { id, path: `/albums/a${id}`, name: `Album ${id}`, online: true, photos: 2, videos: 1, demo: false, ...over };
}

describe("sidebar albums", () => {
  it("marks an album on a network share and says how often it is rescanned", () => {
    const albums = [
      album(1, { storage: "local", filesystem: "ext4", rescan_every_s: null }),
      album(2, { name: "NAS", storage: "network", filesystem: "nfs4", rescan_every_s: 300 }),
      album(3, { name: "Laptop", storage: "network", filesystem: "fuse.sshfs", rescan_every_s: 90 }),
    ];
    render(Sidebar, { albums });
    const marks = screen.getAllByTestId("album-network");
    expect(marks).toHaveLength(2);
    expect(marks[0].getAttribute("title")).toBe(
      "On a network share (nfs4): changes made on other computers are picked up every 5 minutes.",
    );
    expect(marks[1].getAttribute("title")).toBe(
      "On a network share (fuse.sshfs): changes made on other computers are picked up every 90 seconds.",
    );
    const rows = screen.getAllByTestId("album");
    expect(rows[0].querySelector(".net")).toBeNull();
    expect(rows[1].textContent).toContain("network");
  });

  it("shows an album without storage facts (an older app) as local", () => {
    render(Sidebar, { albums: [album(1)] });
    expect(screen.queryByTestId("album-network")).toBeNull();
  });

  it("shows hostile album names and paths as text", () => {
    const name = `<img src=x onerror="alert(1)">it's "quoted"\n100%_done\\`;
    render(Sidebar, { albums: [album(1, { name, path: `/mnt/${name}`, storage: "network", filesystem: "<b>cifs</b>" })] });
    const row = screen.getByTestId("album");
    expect(row.querySelector("img")).toBeNull();
    expect(row.querySelector("span")?.textContent).toContain(name);
    expect(row.getAttribute("title")).toBe(`/mnt/${name}`);
    expect(screen.getByTestId("album-network").getAttribute("title")).toContain("(<b>cifs</b>)");
    expect(document.querySelector("b b")).toBeNull();
  });
});

describe("sidebar pages", () => {
  it("Events and Memories are pages of their own; choosing anything says so", async () => {
    const { fireEvent } = await import("@testing-library/svelte");
    const onnavigate = vi.fn();
    render(Sidebar, { albums: [album(1)], root: 1, onnavigate });
    const events = screen.getByTestId("view-events");
    await fireEvent.click(events);
    expect(events.classList.contains("on")).toBe(true);
    expect(events.getAttribute("aria-current")).toBe("page");
    expect(screen.getByTestId("view-all").classList.contains("on")).toBe(false);
    expect(screen.getByTestId("album").closest(".album")?.classList.contains("on")).toBe(false);
    await fireEvent.click(screen.getByTestId("view-memories"));
    expect(screen.getByTestId("view-memories").classList.contains("on")).toBe(true);
    expect(events.classList.contains("on")).toBe(false);
    await fireEvent.click(screen.getByTestId("view-all"));
    expect(screen.getByTestId("view-all").classList.contains("on")).toBe(true);
    expect(screen.getByTestId("view-memories").classList.contains("on")).toBe(false);
    expect(onnavigate).toHaveBeenCalledTimes(3);
  });
});

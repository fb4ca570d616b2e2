import { mount } from "svelte";
import App from "./App.svelte";
import "./app.css";
import { loadVideoBase, storedSort, warmStart } from "./lib/api";

warmStart(storedSort());
void loadVideoBase();

const target = document.getElementById("app");
if (!target) throw new Error("index.html lacks #app");
export default mount(App, { target });

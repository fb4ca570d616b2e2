import { mount } from "svelte";
import App from "./App.svelte";
import "./app.css";
import { storedSort, warmStart } from "./lib/api";

warmStart(storedSort());

const target = document.getElementById("app");
if (!target) throw new Error("index.html lacks #app");
export default mount(App, { target });

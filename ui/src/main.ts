import { mount } from "svelte";
import App from "./App.svelte";
import { setLocale } from "./lib/i18n.svelte";
import "./app.css";

const target = document.getElementById("app");
if (!target) throw new Error("index.html has no #app element");
// Until the shell says which locale it resolved (Status.locale), speak the
// one the web view runs in: the system's, as the shell would by default.
setLocale(navigator.language || "en-US");
mount(App, { target });

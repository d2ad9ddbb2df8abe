// Before every test file: jest-dom's matchers (toBeInTheDocument, toHaveTextContent…)
// and a patience for the window's debounced and asynchronous updates.
import "@testing-library/jest-dom/vitest";
import { configure } from "@testing-library/svelte";

configure({ asyncUtilTimeout: 1500 });

// Light and dark themes: the system's by default; the toggle's choice is remembered in this browser.
const KEY = "callboard.theme";
const dark = matchMedia("(prefers-color-scheme: dark)");

export const theme = () => localStorage.getItem(KEY) || (dark.matches ? "dark" : "light");

export function applyTheme() {
  document.documentElement.dataset.theme = theme();
}

export function toggleTheme() {
  localStorage.setItem(KEY, theme() === "dark" ? "light" : "dark");
  applyTheme();
  return theme();
}

dark.addEventListener("change", applyTheme);
applyTheme();

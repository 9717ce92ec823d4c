// The UI's texts in English, Spanish and Russian. The language is the user's choice (remembered), else the
// browser's first supported one, else English. `t(key, vars)` fills {name} placeholders.
import { en } from "./texts/en.js";
import { es } from "./texts/es.js";
import { ru } from "./texts/ru.js";

const KEY = "callboard.language";
export const LANGUAGES = { en: "English", es: "Español", ru: "Русский" };
const TEXTS = { en, es, ru };

function initial() {
  const stored = localStorage.getItem(KEY);
  if (stored && TEXTS[stored]) return stored;
  for (const tag of navigator.languages || [navigator.language || "en"]) {
    const base = tag.toLowerCase().split("-")[0];
    if (TEXTS[base]) return base;
  }
  return "en";
}

let current = initial();
document.documentElement.lang = current;

export const language = () => current;

export function setLanguage(lang) {
  if (!TEXTS[lang]) return;
  current = lang;
  localStorage.setItem(KEY, lang);
  document.documentElement.lang = lang;
}

export function t(key, vars = {}) {
  const text = TEXTS[current][key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

// Whether a key has a text (for server error ids the UI knows how to say).
export const has = (key) => key in en;

// Numbers and times in the UI's language.
export const number = (value, options) => new Intl.NumberFormat(current, options).format(value);
export const clock = (date) =>
  new Intl.DateTimeFormat(current, { hour: "2-digit", minute: "2-digit", second: "2-digit" }).format(date);

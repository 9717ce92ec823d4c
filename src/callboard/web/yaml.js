// A small YAML writer for what the API answers in JSON (a published flow shown in the editor): block mappings
// and lists, scalars quoted as JSON whenever plain YAML could read them as something else. Reading YAML is the
// server's job (POST /flows/check answers the definition it read).

const PLAIN = /^[A-Za-z_][\w .\/@+-]*$/;
const RESERVED = /^(true|false|yes|no|on|off|null|y|n|~)$/i;

function scalar(value) {
  if (value === null || value === undefined) return "null";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  const text = String(value);
  if (PLAIN.test(text) && !RESERVED.test(text) && !/\s$/.test(text) && !text.includes(": ") && !text.includes(" #")) {
    return text;
  }
  return JSON.stringify(text);
}

const key = (name) => (PLAIN.test(name) && !RESERVED.test(name) ? name : JSON.stringify(name));
const empty = (value) => (Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0);

// A short list or mapping of scalars fits on its line: [a, b] or {x: 1}.
function inline(value) {
  if (Array.isArray(value)) return `[${value.map((v) => (typeof v === "object" && v ? inline(v) : scalar(v))).join(", ")}]`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${key(k)}: ${typeof v === "object" && v ? inline(v) : scalar(v)}`)
    .join(", ")}}`;
}

const flat = (value) =>
  typeof value === "object" && value !== null && (empty(value) || (inline(value).length <= 60 && !Object.values(value).some((v) => typeof v === "object" && v && !empty(v) && Object.values(v).some((w) => typeof w === "object" && w))));

function lines(value, indent) {
  const pad = " ".repeat(indent);
  const out = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item === "object" && item !== null && !flat(item) && !Array.isArray(item)) {
        const inner = lines(item, indent + 2);
        out.push(`${pad}- ${inner[0].trimStart()}`, ...inner.slice(1));
      } else {
        out.push(`${pad}- ${typeof item === "object" && item !== null ? inline(item) : scalar(item)}`);
      }
    }
    return out;
  }
  for (const [name, item] of Object.entries(value)) {
    if (typeof item === "object" && item !== null) {
      if (flat(item)) out.push(`${pad}${key(name)}: ${inline(item)}`);
      else out.push(`${pad}${key(name)}:`, ...lines(item, indent + 2));
    } else {
      out.push(`${pad}${key(name)}: ${scalar(item)}`);
    }
  }
  return out;
}

export const toYaml = (value) => `${lines(value, 0).join("\n")}\n`;

// A plain text editor for YAML: a <textarea> with line numbers beside it, the lines with problems marked,
// and a way to jump to a line and column. No editor library: the checks come from the server.
import { useEffect, useRef } from "preact/hooks";
import { html } from "./html.js";

const LINE_PX = 20; // the textarea's line height in styles.css (.code-editor)

export function CodeEditor({ value, onInput, badLines = new Set(), jumpTo, label, testid = "code" }) {
  const area = useRef(null);
  const gutter = useRef(null);
  const lines = value.split("\n").length;

  // jumpTo = {line, col, n}: n changes on each request, so jumping to the same place twice works
  useEffect(() => {
    const el = area.current;
    if (!el || !jumpTo) return;
    const rows = el.value.split("\n");
    let offset = 0;
    for (let i = 0; i < Math.min(jumpTo.line - 1, rows.length); i++) offset += rows[i].length + 1;
    offset += Math.max(0, (jumpTo.col || 1) - 1);
    el.focus();
    el.setSelectionRange(offset, offset);
    el.scrollTop = Math.max(0, (jumpTo.line - 4) * LINE_PX);
  }, [jumpTo]);

  const scrolled = () => {
    if (gutter.current) gutter.current.scrollTop = area.current.scrollTop;
  };
  const onKeyDown = (event) => {
    if (event.key !== "Tab" || event.shiftKey) return; // two spaces, as YAML wants; Shift+Tab leaves the field
    event.preventDefault();
    const el = event.target;
    el.setRangeText("  ", el.selectionStart, el.selectionEnd, "end");
    onInput(el.value);
  };
  return html`<div class="code-editor">
    <div class="code-gutter" ref=${gutter} aria-hidden="true">
      ${Array.from({ length: lines }, (_, i) => html`<div class=${badLines.has(i + 1) ? "bad" : ""}>${i + 1}</div>`)}
    </div>
    <textarea
      ref=${area}
      class="code-text"
      spellcheck="false"
      autocomplete="off"
      wrap="off"
      aria-label=${label}
      data-testid=${testid}
      value=${value}
      onInput=${(e) => onInput(e.target.value)}
      onScroll=${scrolled}
      onKeyDown=${onKeyDown}
    ></textarea>
  </div>`;
}

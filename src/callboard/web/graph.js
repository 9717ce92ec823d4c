// A read-only diagram of a flow's graph ({start, nodes, edges} from the API): nodes in layers by their
// distance from the start (breadth first), nodes no path reaches in a last layer, each exit an arrow
// labelled with its name. Plain SVG, no layout library.
import { html } from "./html.js";

const W = 160;
const H = 46;
const GAP_X = 64;
const GAP_Y = 58;
const PAD = 16;

export function layout(graph) {
  const ids = graph.nodes.map((n) => n.id);
  const depth = {};
  const start = ids.includes(graph.start) ? graph.start : ids[0];
  if (start !== undefined) {
    depth[start] = 0;
    const queue = [start];
    while (queue.length) {
      const id = queue.shift();
      for (const e of graph.edges) {
        if (e.from === id && ids.includes(e.to) && depth[e.to] === undefined) {
          depth[e.to] = depth[id] + 1;
          queue.push(e.to);
        }
      }
    }
  }
  const deepest = Math.max(-1, ...Object.values(depth));
  for (const id of ids) if (depth[id] === undefined) depth[id] = deepest + 1;
  const layers = [];
  for (const id of ids) (layers[depth[id]] = layers[depth[id]] || []).push(id);
  const widest = Math.max(1, ...layers.map((l) => (l ? l.length : 0)));
  const width = PAD * 2 + widest * W + (widest - 1) * GAP_X;
  const at = {};
  layers.forEach((layer, d) => {
    if (!layer) return;
    const span = layer.length * W + (layer.length - 1) * GAP_X;
    layer.forEach((id, i) => {
      at[id] = { x: (width - span) / 2 + i * (W + GAP_X), y: PAD + d * (H + GAP_Y) };
    });
  });
  return { at, width, height: PAD * 2 + layers.length * H + Math.max(0, layers.length - 1) * GAP_Y };
}

// An arrow from a to b: down to a lower row, straight across within a row, around the right going back up.
function edge(a, b) {
  if (b.y > a.y) {
    const [x1, y1, x2, y2] = [a.x + W / 2, a.y + H, b.x + W / 2, b.y];
    return { d: `M${x1},${y1} C${x1},${y1 + GAP_Y / 2} ${x2},${y2 - GAP_Y / 2} ${x2},${y2}`, lx: (x1 + x2) / 2, ly: (y1 + y2) / 2, anchor: "middle" };
  }
  if (b.y === a.y && a.x !== b.x) {
    const right = b.x > a.x;
    const x1 = right ? a.x + W : a.x;
    const x2 = right ? b.x : b.x + W;
    const y = a.y + H / 2;
    return { d: `M${x1},${y} L${x2},${y}`, lx: (x1 + x2) / 2, ly: y - 5, anchor: "middle" };
  }
  const side = Math.max(a.x, b.x) + W + GAP_X / 2;
  const [y1, y2] = [a.y + H / 2, b.y + H / 2];
  return { d: `M${a.x + W},${y1} C${side},${y1} ${side},${y2} ${b.x + W},${y2}`, lx: side - 2, ly: (y1 + y2) / 2, anchor: "start" };
}

// One arrow per pair of nodes, labelled with every exit it stands for ("options.1, options.2").
function arrows(graph, at) {
  const byPair = new Map();
  for (const e of graph.edges) {
    if (!at[e.from] || !at[e.to]) continue;
    const key = `${e.from}\u0000${e.to}`;
    if (byPair.has(key)) byPair.get(key).exits.push(e.exit);
    else byPair.set(key, { from: e.from, to: e.to, exits: [e.exit] });
  }
  return [...byPair.values()];
}

export function FlowDiagram({ graph, title }) {
  if (!graph || !graph.nodes.length) return null;
  const { at, width, height } = layout(graph);
  const shown = arrows(graph, at);
  return html`<svg class="diagram" data-testid="diagram" role="img" aria-label=${title} viewBox=${`0 0 ${width + GAP_X + 70} ${height}`}
    width=${width + GAP_X + 70} height=${height}>
    <defs>
      <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
        <path d="M0,0 L10,5 L0,10 z" class="diagram-arrow" />
      </marker>
    </defs>
    ${shown.map((e) => {
      const line = edge(at[e.from], at[e.to]);
      return html`<g class="diagram-edge" data-testid="diagram-edge" data-from=${e.from} data-to=${e.to}>
        <path d=${line.d} marker-end="url(#arrow)" />
        <text x=${line.lx} y=${line.ly} text-anchor=${line.anchor}>${e.exits.join(", ")}</text>
      </g>`;
    })}
    ${graph.nodes.map((n) => {
      const p = at[n.id];
      return html`<g class=${`diagram-node type-${n.type || "unknown"} ${n.id === graph.start ? "start" : ""}`} data-testid="diagram-node" data-node=${n.id}>
        <title>${n.label || n.id}</title>
        <rect x=${p.x} y=${p.y} width=${W} height=${H} rx="8" />
        <text x=${p.x + 10} y=${p.y + 19} class="diagram-id">${n.id.length > 20 ? `${n.id.slice(0, 19)}…` : n.id}</text>
        <text x=${p.x + 10} y=${p.y + 36} class="diagram-type">${n.type || "?"}${n.label ? ` · ${n.label.length > 18 ? `${n.label.slice(0, 17)}…` : n.label}` : ""}</text>
      </g>`;
    })}
  </svg>`;
}

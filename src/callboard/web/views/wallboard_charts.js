// The wallboard's charts of the day, SVG drawn by Preact from /statistics/intervals: tasks per interval (created,
// answered, abandoned) as grouped bars, and each interval's service level as a step line that leaves a gap where
// no task was measured. Bars and points carry data-series, data-value and data-start (the interval's start, epoch
// seconds) for tests; every chart has role="img", an aria-label and a <title> saying what it shows.
import { html } from "../html.js";
import { language, number, t } from "../i18n.js";

const WIDTH = 600;
const HEIGHT = 220;
const PAD = { left: 58, right: 10, top: 12, bottom: 26 };
const PLOT_W = WIDTH - PAD.left - PAD.right;
const PLOT_H = HEIGHT - PAD.top - PAD.bottom;
const MAX_LABELS = 7;
export const TARGET = 80; // the service level the wallboard shows green from

export const SERIES = [
  { key: "tasks_entered", name: "created" },
  { key: "reservations_accepted", name: "answered" },
  { key: "tasks_canceled", name: "abandoned" },
];

const hhmm = (seconds) =>
  new Intl.DateTimeFormat(language(), { hour: "2-digit", minute: "2-digit" }).format(new Date(seconds * 1000));

// The smallest of 1, 2, 5, 10, 20, 50... at least `rough`: tick steps a reader can add up.
function niceStep(rough) {
  if (rough <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= rough);
}

const yAt = (value, top) => PAD.top + PLOT_H * (1 - value / top);

function Frame({ items, ticks, top, format, axis }) {
  const band = PLOT_W / Math.max(1, items.length);
  const every = Math.max(1, Math.ceil(items.length / MAX_LABELS));
  return html`<g class="chart-axis">
    ${ticks.map(
      (tick) => html`<g class="chart-grid">
        <line x1=${PAD.left} x2=${WIDTH - PAD.right} y1=${yAt(tick, top)} y2=${yAt(tick, top)} />
        <text x=${PAD.left - 6} y=${yAt(tick, top) + 4} text-anchor="end">${format(tick)}</text>
      </g>`,
    )}
    <text class="chart-axis-title" transform=${`translate(12 ${PAD.top + PLOT_H / 2}) rotate(-90)`} text-anchor="middle"
      >${axis}</text
    >
    ${items.map((item, i) =>
      i % every === 0
        ? html`<text x=${PAD.left + i * band} y=${HEIGHT - 8} text-anchor="start" data-testid="chart-x-label"
            >${hhmm(item.start_time)}</text
          >`
        : null,
    )}
  </g>`;
}

const sum = (items, key) => items.reduce((n, item) => n + item[key], 0);

export function CallsChart({ items }) {
  const most = Math.max(0, ...items.flatMap((item) => SERIES.map((s) => item[s.key])));
  const step = niceStep(most / 4);
  const top = Math.max(step, Math.ceil(most / step) * step);
  const ticks = Array.from({ length: top / step + 1 }, (_, i) => i * step);
  const totals = Object.fromEntries(SERIES.map((s) => [s.name, sum(items, s.key)]));
  const label = t("wall.callsLabel", totals);
  const band = PLOT_W / Math.max(1, items.length);
  const bar = (band * 0.8) / SERIES.length;
  return html`<figure class="chart">
    <svg class="chart-svg" data-testid="chart-calls" role="img" aria-label=${label} viewBox=${`0 0 ${WIDTH} ${HEIGHT}`}>
      <title>${label}</title>
      <${Frame} items=${items} ticks=${ticks} top=${top} format=${(v) => number(v)} axis=${t("wall.axisTasks")} />
      ${items.map((item, i) =>
        SERIES.map((s, k) => {
          const value = item[s.key];
          const y = yAt(value, top);
          return html`<rect class=${`chart-bar chart-${s.name}`} data-testid="chart-bar" data-series=${s.name}
            data-value=${value} data-start=${item.start_time}
            x=${PAD.left + i * band + band * 0.1 + k * bar} y=${y} width=${bar} height=${PAD.top + PLOT_H - y}>
            <title>${hhmm(item.start_time)} · ${t(`wall.series.${s.name}`)}: ${value}</title>
          </rect>`;
        }),
      )}
    </svg>
    <figcaption class="chart-legend">
      ${SERIES.map(
        (s) => html`<span data-testid="chart-total" data-series=${s.name}>
          <i class=${`swatch chart-${s.name}`}></i>${t(`wall.series.${s.name}`)} <strong>${totals[s.name]}</strong>
        </span>`,
      )}
    </figcaption>
  </figure>`;
}

// The step line's path: flat across each measured interval, vertical between neighbours, broken by a gap.
function stepPath(items) {
  const band = PLOT_W / Math.max(1, items.length);
  let d = "";
  let drawing = false;
  items.forEach((item, i) => {
    const level = item.service_level.percentage;
    if (level === null) {
      drawing = false;
      return;
    }
    const [x0, x1, y] = [PAD.left + i * band, PAD.left + (i + 1) * band, yAt(level, 100)];
    d += `${drawing ? "L" : "M"}${x0},${y} L${x1},${y} `;
    drawing = true;
  });
  return d.trim();
}

const percent = (value) => `${number(value, { maximumFractionDigits: 0 })} %`;

export function LevelChart({ items }) {
  const band = PLOT_W / Math.max(1, items.length);
  const measured = items.filter((item) => item.service_level.percentage !== null);
  const last = measured[measured.length - 1];
  const label = last
    ? t("wall.levelLabel", { measured: measured.length, target: TARGET, level: percent(last.service_level.percentage) })
    : t("wall.levelNone");
  return html`<figure class="chart">
    <svg class="chart-svg" data-testid="chart-level" role="img" aria-label=${label} viewBox=${`0 0 ${WIDTH} ${HEIGHT}`}>
      <title>${label}</title>
      <${Frame} items=${items} ticks=${[0, 25, 50, 75, 100]} top=${100} format=${percent} axis=${t("wall.axisLevel")} />
      <line class="chart-target" x1=${PAD.left} x2=${WIDTH - PAD.right} y1=${yAt(TARGET, 100)} y2=${yAt(TARGET, 100)} />
      <path class="chart-level" d=${stepPath(items)} />
      ${items.map((item, i) => {
        const level = item.service_level.percentage;
        if (level === null) return null;
        const sl = item.service_level;
        return html`<circle class="chart-point" data-testid="chart-point" data-value=${Math.round(level)}
          data-start=${item.start_time} cx=${PAD.left + (i + 0.5) * band} cy=${yAt(level, 100)} r="3.5">
          <title>${hhmm(item.start_time)} · ${percent(level)} (${sl.tasks_within} / ${sl.tasks_measured})</title>
        </circle>`;
      })}
    </svg>
    <figcaption class="chart-legend">
      <span><i class="swatch chart-level-swatch"></i>${t("wall.serviceLevel")}</span>
      <span><i class="swatch chart-target-swatch"></i>${t("wall.target", { target: TARGET })}</span>
    </figcaption>
  </figure>`;
}

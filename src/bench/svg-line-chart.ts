/** A dependency-free SVG line chart for bench reports: readable in a browser and on GitHub. */
export interface ChartPoint {
  x: number;
  y: number;
  /** Text drawn beside the point, e.g. "n=8". */
  label?: string;
}

export interface ChartSeries {
  label: string;
  points: ChartPoint[];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  width?: number;
  height?: number;
  /** Use a base-2 log scale on x (e.g. for n = 1, 2, 4, 8); points at x ≤ 0 are left out. */
  logX?: boolean;
  /**
   * Where x has ticks: at each point's x ("data", the default on a log axis, for n = 1, 2, 4, 8) or
   * at round values 1, 2, 5 × 10^k ("round", the default on a linear axis).
   */
  xTicks?: "data" | "round";
  /** Points joined by a dashed grey step line under the series, e.g. a Pareto front. */
  front?: { label: string; points: Array<{ x: number; y: number }> };
  /** A line under the title, e.g. what the chart leaves out. */
  note?: string;
  /**
   * Start y at 0 (the default). False fits y to the points, padded, so a curve that moves a few
   * points of accuracy is not squashed against the top.
   */
  yFromZero?: boolean;
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
// Past 8 series the colours repeat, so each further 8 gets its own dash pattern and marker shape.
const DASHES = [undefined, "7 3", "2 3", "8 3 2 3"];
const SHAPES = ["circle", "square", "triangle", "diamond"] as const;
type Shape = (typeof SHAPES)[number];

interface SeriesStyle {
  color: string;
  dash: string | undefined;
  shape: Shape;
}

export const seriesStyle = (index: number): SeriesStyle => {
  const group = Math.floor(index / COLORS.length);
  return {
    color: COLORS[index % COLORS.length] as string,
    dash: DASHES[group % DASHES.length],
    shape: SHAPES[group % SHAPES.length] as Shape,
  };
};

const escapeXml = (text: string): string =>
  text.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c] ?? c,
  );

/**
 * A generous estimate of how wide text is drawn in a sans-serif font (no font metrics here): what
 * layout uses to keep text inside the frame.
 */
export const textWidth = (text: string, fontSize: number): number => text.length * fontSize * 0.62;

const fixed = (value: number): string => value.toFixed(1);

/** Round tick values: 1, 2, 5 × 10^k. */
function niceTicks(min: number, max: number, count = 5): number[] {
  if (max === min) return [min];
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step)
    ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Ticks at 1, 2, 5 × 10^k between min and max (> 0), thinned to powers of ten when there are many. */
function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let k = Math.floor(Math.log10(min)); k <= Math.ceil(Math.log10(max)); k++) {
    for (const m of [1, 2, 5]) {
      const t = Number((m * 10 ** k).toPrecision(12));
      if (t >= min && t <= max) ticks.push(t);
    }
  }
  return ticks.length > 9 ? ticks.filter((t) => Number.isInteger(Math.log10(t))) : ticks;
}

interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

const overlaps = (a: Box, b: Box): boolean => a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;
const inside = (a: Box, frame: Box): boolean =>
  a.x1 >= frame.x1 && a.x2 <= frame.x2 && a.y1 >= frame.y1 && a.y2 <= frame.y2;

function marker(shape: Shape, cx: number, cy: number, color: string, className: string): string {
  const r = 3.5;
  switch (shape) {
    case "circle":
      return `<circle class="${className}" cx="${fixed(cx)}" cy="${fixed(cy)}" r="${r}" fill="${color}"/>`;
    case "square":
      return `<rect class="${className}" x="${fixed(cx - r)}" y="${fixed(cy - r)}" width="${2 * r}" height="${2 * r}" fill="${color}"/>`;
    case "triangle":
      return `<polygon class="${className}" points="${fixed(cx)},${fixed(cy - r - 1)} ${fixed(cx + r + 0.5)},${fixed(cy + r)} ${fixed(cx - r - 0.5)},${fixed(cy + r)}" fill="${color}"/>`;
    case "diamond":
      return `<polygon class="${className}" points="${fixed(cx)},${fixed(cy - r - 1)} ${fixed(cx + r + 1)},${fixed(cy)} ${fixed(cx)},${fixed(cy + r + 1)} ${fixed(cx - r - 1)},${fixed(cy)}" fill="${color}"/>`;
  }
}

const LABEL_FONT = 11;
const LEGEND_ROW = 20;

export function renderLineChart(options: LineChartOptions): string {
  const logX = options.logX ?? false;
  const drawable = (p: { x: number; y: number }) =>
    Number.isFinite(p.x) && Number.isFinite(p.y) && (!logX || p.x > 0);
  const series = options.series.map((s) => ({
    ...s,
    points: s.points.filter(drawable).sort((a, b) => a.x - b.x),
  }));
  const front = options.front && { ...options.front, points: options.front.points.filter(drawable) };
  const legend = [...series.map((s) => s.label), ...(front ? [front.label] : [])];

  // The legend sits right of the plot; it widens the chart rather than running off its edge.
  const legendWidth = 46 + Math.max(0, ...legend.map((label) => textWidth(label, 12))) + 10;
  const margin = {
    top: options.note ? 62 : 48,
    right: Math.max(180, Math.ceil(legendWidth)),
    bottom: 56,
    left: 72,
  };
  const width = (options.width ?? 720) + (margin.right - 180);
  const height = Math.max(options.height ?? 440, margin.top + 16 + legend.length * LEGEND_ROW);
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;

  const all = [...series.flatMap((s) => s.points), ...(front?.points ?? [])];
  const tx = (x: number) => (logX ? Math.log2(x) : x);
  const xs = all.map((p) => tx(p.x));
  const xMin = xs.length > 0 ? Math.min(...xs) : 0;
  const xMax = xs.length > 0 ? Math.max(...xs) : 1;
  // Padded, so markers and their labels at the extremes stay inside the frame.
  const xPad = xMax > xMin ? (xMax - xMin) * 0.06 : logX ? 0.5 : Math.abs(xMin) * 0.1 || 1;
  const xLo = !logX && xMin >= 0 && xMin - xPad < 0 ? Math.min(0, xMin) : xMin - xPad;
  const xHi = xMax + xPad;
  const ys = all.map((p) => p.y);
  let yLo: number;
  let yHi: number;
  if (options.yFromZero === false && ys.length > 0) {
    const span = Math.max(...ys) - Math.min(...ys);
    const pad = Math.max(span * 0.1, Math.abs(Math.max(...ys)) * 0.02, 1e-9);
    yLo = Math.min(...ys) - pad;
    yHi = Math.max(...ys) + pad;
  } else {
    yHi = Math.max(0, ...ys) * 1.1 || 1;
    // From 0, unless a point lies at (or near) the bottom: then a little below, so its marker stays inside.
    const yFloor = Math.min(0, ...ys) * 1.1;
    yLo = Math.min(yFloor, Math.min(...ys, yHi) - (yHi - yFloor) * 0.04);
  }
  const sx = (x: number) => margin.left + ((tx(x) - xLo) / (xHi - xLo)) * plotW;
  const sy = (y: number) => margin.top + plotH - ((y - yLo) / (yHi - yLo)) * plotH;
  const frame: Box = { x1: margin.left, y1: margin.top, x2: margin.left + plotW, y2: margin.top + plotH };

  const fitted = (text: string, size: number) => Math.min(size, (width - 24) / (text.length * 0.62));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="${fitted(options.title, 15).toFixed(1)}" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  if (options.note) {
    parts.push(
      `<text class="note" x="${width / 2}" y="44" text-anchor="middle" font-size="${fitted(options.note, 11).toFixed(1)}" fill="#555">${escapeXml(options.note)}</text>`,
    );
  }
  for (const t of niceTicks(yLo, yHi, 6)) {
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${fixed(sy(t))}" y2="${fixed(sy(t))}" stroke="#e5e5e5"/>`,
      `<text x="${margin.left - 8}" y="${fixed(sy(t) + 4)}" text-anchor="end">${t}</text>`,
    );
  }
  const xTicks =
    (options.xTicks ?? (logX ? "data" : "round")) === "data"
      ? [...new Set(all.map((p) => p.x))].sort((a, b) => a - b)
      : logX
        ? logTicks(2 ** xLo, 2 ** xHi)
        : niceTicks(xLo, xHi);
  for (const t of xTicks) {
    parts.push(
      `<line x1="${fixed(sx(t))}" x2="${fixed(sx(t))}" y1="${margin.top + plotH}" y2="${margin.top + plotH + 4}" stroke="#333"/>`,
      `<text x="${fixed(sx(t))}" y="${margin.top + plotH + 18}" text-anchor="middle">${t}</text>`,
    );
  }
  parts.push(
    `<line class="x-axis" x1="${margin.left}" x2="${margin.left + plotW}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="#333"/>`,
    `<line class="y-axis" x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#333"/>`,
    `<text x="${margin.left + plotW / 2}" y="${height - 14}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(18 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  );

  // The front first, so the series draw over it: each step goes across to the next point's cost, then up.
  if (front && front.points.length > 0) {
    const sorted = [...front.points].sort((a, b) => a.x - b.x);
    const steps = sorted.map((p, j) => {
      const prev = sorted[j - 1];
      const at = `${fixed(sx(p.x))},${fixed(sy(p.y))}`;
      return prev ? `L${fixed(sx(p.x))},${fixed(sy(prev.y))} L${at}` : `M${at}`;
    });
    parts.push(
      `<path class="front" d="${steps.join(" ")}" fill="none" stroke="#888" stroke-width="1.5" stroke-dasharray="5 4"/>`,
      ...sorted.map(
        (p) =>
          `<circle class="front-point" cx="${fixed(sx(p.x))}" cy="${fixed(sy(p.y))}" r="7" fill="none" stroke="#888"/>`,
      ),
    );
  }

  const labelled: Array<{ x: number; y: number; text: string; color: string }> = [];
  const markers: Box[] = [];
  series.forEach((s, i) => {
    const style = seriesStyle(i);
    if (s.points.length > 1) {
      const path = s.points
        .map((p, j) => `${j === 0 ? "M" : "L"}${fixed(sx(p.x))},${fixed(sy(p.y))}`)
        .join(" ");
      const dash = style.dash ? ` stroke-dasharray="${style.dash}"` : "";
      parts.push(`<path d="${path}" fill="none" stroke="${style.color}" stroke-width="2"${dash}/>`);
    }
    for (const p of s.points) {
      parts.push(marker(style.shape, sx(p.x), sy(p.y), style.color, "point"));
      markers.push({ x1: sx(p.x) - 4, y1: sy(p.y) - 4, x2: sx(p.x) + 4, y2: sy(p.y) + 4 });
      if (p.label) labelled.push({ x: sx(p.x), y: sy(p.y), text: p.label, color: style.color });
    }
  });
  parts.push(...placeLabels(labelled, markers, frame));

  legend.forEach((label, i) => {
    const ly = margin.top + 8 + i * LEGEND_ROW;
    const x1 = width - margin.right + 16;
    const isFront = front !== undefined && i === series.length;
    const style = seriesStyle(i);
    const stroke = isFront ? `stroke="#888" stroke-dasharray="5 4"` : `stroke="${style.color}"`;
    const dash = !isFront && style.dash ? ` stroke-dasharray="${style.dash}"` : "";
    // A series of one point is drawn as a marker alone, so its legend shows no line either.
    const drawnAsLine = isFront || (series[i]?.points.length ?? 0) > 1;
    if (drawnAsLine) {
      parts.push(
        `<line x1="${x1}" x2="${x1 + 24}" y1="${ly}" y2="${ly}" ${stroke} stroke-width="2"${dash}/>`,
      );
    }
    if (!isFront) parts.push(marker(style.shape, x1 + 12, ly, style.color, "legend-marker"));
    parts.push(`<text class="legend" x="${x1 + 30}" y="${ly + 4}">${escapeXml(label)}</text>`);
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

/** Where a label may go, relative to its point (dy to the text's baseline), in order of preference. */
const LABEL_SPOTS: Array<{ dx: number; dy: number; anchor: "start" | "middle" | "end" }> = [
  { dx: 6, dy: -5, anchor: "start" },
  { dx: 6, dy: 14, anchor: "start" },
  { dx: 0, dy: -8, anchor: "middle" },
  { dx: -6, dy: -5, anchor: "end" },
  { dx: -6, dy: 14, anchor: "end" },
  { dx: 0, dy: 17, anchor: "middle" },
  // Further out, for crowded spots.
  { dx: 6, dy: -17, anchor: "start" },
  { dx: 6, dy: 26, anchor: "start" },
  { dx: -6, dy: -17, anchor: "end" },
  { dx: -6, dy: 26, anchor: "end" },
];

/**
 * Puts each point's label beside it: right and above if that fits, else the first other side that
 * stays inside the frame and clear of markers and labels already placed (so a label at the right edge
 * goes to the left of its point).
 */
function placeLabels(
  points: Array<{ x: number; y: number; text: string; color: string }>,
  markers: Box[],
  frame: Box,
): string[] {
  const taken: Box[] = [...markers];
  const h = LABEL_FONT;
  return points.map((p) => {
    const w = textWidth(p.text, LABEL_FONT);
    const candidates = LABEL_SPOTS.map(({ dx, dy, anchor }) => {
      const x1 = anchor === "start" ? p.x + dx : anchor === "end" ? p.x + dx - w : p.x - w / 2;
      return {
        x: p.x + dx,
        y: p.y + dy,
        anchor,
        box: { x1, y1: p.y + dy - h, x2: x1 + w, y2: p.y + dy + 2 },
      };
    });
    const within = candidates.filter((c) => inside(c.box, frame));
    const clashes = (c: (typeof candidates)[number]) => taken.filter((t) => overlaps(c.box, t)).length;
    // Fewest clashes wins; ties go to the earlier (preferred) side.
    const pool = within.length > 0 ? within : candidates;
    const chosen = pool.reduce((best, c) => (clashes(c) < clashes(best) ? c : best));
    taken.push(chosen.box);
    return `<text class="point-label" x="${fixed(chosen.x)}" y="${fixed(chosen.y)}" text-anchor="${chosen.anchor}" font-size="${LABEL_FONT}" fill="${p.color}">${escapeXml(p.text)}</text>`;
  });
}

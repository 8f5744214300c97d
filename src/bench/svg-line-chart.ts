/** A dependency-free SVG line chart for bench reports: readable in a browser and on GitHub. */
export interface ChartSeries {
  label: string;
  points: Array<{ x: number; y: number }>;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  width?: number;
  height?: number;
  /** Use a base-2 log scale on x (e.g. for n = 1, 2, 4, 8). */
  logX?: boolean;
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

const escapeXml = (text: string): string =>
  text.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c] ?? c,
  );

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

export function renderLineChart(options: LineChartOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 440;
  const margin = { top: 48, right: 180, bottom: 56, left: 72 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const all = options.series.flatMap((s) => s.points);
  const tx = (x: number) => (options.logX ? Math.log2(x) : x);
  const xs = all.map((p) => tx(p.x));
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const yMax = Math.max(...all.map((p) => p.y)) * 1.1 || 1;
  const sx = (x: number) =>
    margin.left + (xMax === xMin ? plotW / 2 : ((tx(x) - xMin) / (xMax - xMin)) * plotW);
  const sy = (y: number) => margin.top + plotH - (y / yMax) * plotH;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2 - margin.right / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  for (const t of niceTicks(0, yMax)) {
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e5e5e5"/>`,
      `<text x="${margin.left - 8}" y="${sy(t) + 4}" text-anchor="end">${t}</text>`,
    );
  }
  const xTicks = options.logX
    ? [...new Set(all.map((p) => p.x))].sort((a, b) => a - b)
    : niceTicks(Math.min(...all.map((p) => p.x)), Math.max(...all.map((p) => p.x)));
  for (const t of xTicks) {
    parts.push(`<text x="${sx(t)}" y="${margin.top + plotH + 18}" text-anchor="middle">${t}</text>`);
  }
  parts.push(
    `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="#333"/>`,
    `<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#333"/>`,
    `<text x="${margin.left + plotW / 2}" y="${height - 14}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(18 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  );
  options.series.forEach((series, i) => {
    const color = COLORS[i % COLORS.length];
    const sorted = [...series.points].sort((a, b) => a.x - b.x);
    const path = sorted
      .map((p, j) => `${j === 0 ? "M" : "L"}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`)
      .join(" ");
    parts.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of sorted) {
      parts.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3.5" fill="${color}"/>`);
    }
    const ly = margin.top + 8 + i * 20;
    parts.push(
      `<line x1="${width - margin.right + 16}" x2="${width - margin.right + 40}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${width - margin.right + 46}" y="${ly + 4}">${escapeXml(series.label)}</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

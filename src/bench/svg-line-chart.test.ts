import { describe, expect, it } from "vitest";
import { renderLineChart, seriesStyle, textWidth } from "./svg-line-chart.js";

/** The plot frame, read off the two axis lines. */
function frameOf(svg: string) {
  const xAxis = /<line class="x-axis" x1="([\d.]+)" x2="([\d.]+)" y1="([\d.]+)"/.exec(svg);
  const yAxis = /<line class="y-axis" x1="([\d.]+)" x2="[\d.]+" y1="([\d.]+)"/.exec(svg);
  if (!xAxis || !yAxis) throw new Error("no axes");
  return { left: Number(xAxis[1]), right: Number(xAxis[2]), top: Number(yAxis[2]), bottom: Number(xAxis[3]) };
}

/** Each point label's text and the box it is drawn in (by the chart's own width estimate). */
function pointLabels(svg: string) {
  return [
    ...svg.matchAll(
      /<text class="point-label" x="([\d.-]+)" y="([\d.-]+)" text-anchor="(\w+)"[^>]*>([^<]*)<\/text>/g,
    ),
  ].map(([, x, y, anchor, text = ""]) => {
    const w = textWidth(text, 11);
    const left = anchor === "start" ? Number(x) : anchor === "end" ? Number(x) - w : Number(x) - w / 2;
    return { text, anchor, left, right: left + w, top: Number(y) - 11, bottom: Number(y) + 2 };
  });
}

const markerCentres = (svg: string) =>
  [...svg.matchAll(/<circle class="point" cx="([\d.-]+)" cy="([\d.-]+)"/g)].map(([, cx, cy]) => ({
    x: Number(cx),
    y: Number(cy),
  }));

describe("renderLineChart", () => {
  it("draws one path per series with a point per sample and escapes labels", () => {
    const svg = renderLineChart({
      title: "tokens/s <by n>",
      xLabel: "n",
      yLabel: "tokens/s",
      logX: true,
      series: [
        { label: "batched", points: [1, 2, 4, 8].map((x) => ({ x, y: x * 10 })) },
        { label: "sequential", points: [1, 2, 4, 8].map((x) => ({ x, y: 10 })) },
      ],
    });
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg.match(/class="point"/g)).toHaveLength(8);
    expect(svg).toContain("tokens/s &lt;by n&gt;");
    expect(svg).not.toContain("NaN");
  });

  it("keeps markers and point labels inside the frame, putting a label at the right edge to its left", () => {
    const svg = renderLineChart({
      title: "accuracy vs cost",
      xLabel: "cost",
      yLabel: "accuracy (%)",
      logX: true,
      xTicks: "round",
      series: [
        {
          label: "sc (by n)",
          points: [1, 2, 4, 8, 16].map((n) => ({ x: 370 * n, y: 27 + n / 2, label: `n=${n}` })),
        },
        // The dearest and most accurate run, with a long label: right of it is outside the frame.
        { label: "asc-futility-n16", points: [{ x: 6000, y: 40, label: "asc-futility-n16" }] },
        { label: "cot", points: [{ x: 360, y: 0, label: "cot" }] },
      ],
    });
    const frame = frameOf(svg);
    const labels = pointLabels(svg);
    expect(labels.map((l) => l.text).sort()).toEqual(
      ["asc-futility-n16", "cot", "n=1", "n=16", "n=2", "n=4", "n=8"].sort(),
    );
    for (const label of labels) {
      expect(label.left, label.text).toBeGreaterThanOrEqual(frame.left);
      expect(label.right, label.text).toBeLessThanOrEqual(frame.right);
      expect(label.top, label.text).toBeGreaterThanOrEqual(frame.top);
      expect(label.bottom, label.text).toBeLessThanOrEqual(frame.bottom);
    }
    expect(labels.find((l) => l.text === "asc-futility-n16")?.anchor).toBe("end");
    for (const p of markerCentres(svg)) {
      expect(p.x - 3.5).toBeGreaterThanOrEqual(frame.left);
      expect(p.x + 3.5).toBeLessThanOrEqual(frame.right);
      expect(p.y - 3.5).toBeGreaterThanOrEqual(frame.top);
      expect(p.y + 3.5).toBeLessThanOrEqual(frame.bottom);
    }
    // No two labels drawn over each other.
    for (const [i, a] of labels.entries()) {
      for (const b of labels.slice(i + 1)) {
        const apart = a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top;
        expect(apart, `${a.text} / ${b.text}`).toBe(true);
      }
    }
    // A run of its own is a marker, not a line.
    expect(svg.match(/<path /g)).toHaveLength(1);
  });

  it("gives series past the eighth their own dash pattern and marker shape instead of reusing a colour", () => {
    const series = Array.from({ length: 12 }, (_, i) => ({
      label: `run-${i}`,
      points: [
        { x: 1 + i, y: 10 + i },
        { x: 2 + i, y: 12 + i },
      ],
    }));
    const styles = series.map((_, i) => seriesStyle(i));
    const looks = new Set(styles.map((s) => `${s.color} ${s.dash} ${s.shape}`));
    expect(looks.size).toBe(12);
    const svg = renderLineChart({ title: "many", xLabel: "x", yLabel: "y", series });
    expect(svg.match(/<circle class="point"/g)).toHaveLength(16);
    expect(svg.match(/<rect class="point"/g)).toHaveLength(8);
    expect(svg.match(/<path [^>]*stroke-dasharray="7 3"/g)).toHaveLength(4);
    // The legend grows the chart rather than running off its bottom.
    const height = Number(/height="(\d+)"/.exec(svg)?.[1]);
    const lastLegend = Math.max(
      ...[...svg.matchAll(/<text class="legend" x="[\d.]+" y="([\d.]+)"/g)].map(([, y]) => Number(y)),
    );
    expect(lastLegend).toBeLessThan(height);
  });

  it("draws the front as a step line under the series and widens the chart for a long legend", () => {
    const label = "a rather long strategy label that would not fit in 180 pixels";
    const svg = renderLineChart({
      title: "front",
      xLabel: "s",
      yLabel: "%",
      series: [{ label, points: [{ x: 1, y: 10 }] }],
      front: {
        label: "Pareto front",
        points: [
          { x: 1, y: 10 },
          { x: 4, y: 30 },
          { x: 2, y: 20 },
        ],
      },
      note: "Not shown (replayed): cot",
    });
    const d = /<path class="front" d="([^"]+)"/.exec(svg)?.[1] ?? "";
    // Three points, sorted by x: a move and two steps of two segments each.
    expect(d.match(/M/g)).toHaveLength(1);
    expect(d.match(/L/g)).toHaveLength(4);
    expect(svg.indexOf('class="front"')).toBeLessThan(svg.indexOf('class="point"'));
    expect(svg).toContain(">Pareto front</text>");
    expect(svg).toContain('class="note"');
    const width = Number(/width="(\d+)"/.exec(svg)?.[1]);
    const legendX = Number(/<text class="legend" x="([\d.]+)"/.exec(svg)?.[1]);
    expect(legendX + textWidth(label, 12)).toBeLessThanOrEqual(width);
  });
});

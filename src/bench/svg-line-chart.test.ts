import { describe, expect, it } from "vitest";
import { renderLineChart } from "./svg-line-chart.js";

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
    expect(svg.match(/<circle /g)).toHaveLength(8);
    expect(svg).toContain("tokens/s &lt;by n&gt;");
    expect(svg).not.toContain("NaN");
  });
});

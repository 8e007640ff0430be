/**
 * The SVG line plot: well-formed, every point inside the plot area, one legend entry per series,
 * round ticks on linear and log axes, unusable points left out.
 */
import test from "ava";
import { formatTick, linePlot, linearTicks, logTicks, plotGeometry, type PlotOptions } from "../src/index.js";

/** Checks that every tag is closed in order (enough XML for what the plot writes). */
function wellFormed(svg: string): boolean {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing) continue;
    if (closing) {
      if (stack.pop() !== name) return false;
    } else {
      stack.push(name!);
    }
  }
  return stack.length === 0;
}

const OPTIONS: PlotOptions = {
  title: "Miss ratio <by> policy & size",
  subtitle: "a test",
  x: { label: "cache size", log: true },
  y: { label: "miss ratio", min: 0, max: 1 },
  series: [
    { name: "lru", points: [[10, 0.9], [100, 0.5], [1000, 0.2]] },
    { name: "opt", points: [[10, 0.8], [100, 0.3], [1000, 0.05], [0, 0.5], [NaN, 0.1]], dashed: true },
    { name: "a <b> & c", points: [[20, 0.7]] },
  ],
};

test("the plot is a well-formed SVG with its title, axes and a legend entry per series", (t) => {
  const svg = linePlot(OPTIONS);
  t.true(svg.startsWith("<?xml"));
  t.true(svg.trimEnd().endsWith("</svg>"));
  t.true(wellFormed(svg));
  t.true(svg.includes("Miss ratio &lt;by&gt; policy &amp; size"), "text is escaped");
  t.true(svg.includes("cache size (log scale)"));
  const legend = svg.slice(svg.indexOf(`<g class="legend">`));
  for (const name of ["lru", "opt", "a &lt;b&gt; &amp; c"]) t.true(legend.includes(`>${name}</text>`), name);
  t.is((svg.match(/<polyline /g) ?? []).length, 2, "a single point draws no line");
  t.true(svg.includes(`stroke-dasharray="6,4"`));
  t.is(linePlot(OPTIONS), svg, "the same data, the same bytes");
});

test("every point is inside the plot area; points a log axis cannot show are left out", (t) => {
  const svg = linePlot(OPTIONS);
  const g = plotGeometry(OPTIONS);
  const circles = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
  t.is(circles.length, 7, "x = 0 and NaN are dropped on a log x axis");
  for (const [cx, cy] of circles) {
    t.true(cx >= g.left && cx <= g.left + g.width, `cx ${cx}`);
    t.true(cy >= g.top && cy <= g.top + g.height, `cy ${cy}`);
  }
  // A log axis leaves a twentieth of the data's span each side; given ends are kept.
  t.true(Math.abs(g.xDomain[0] - 10 / 100 ** 0.05) < 1e-9 && Math.abs(g.xDomain[1] - 1000 * 100 ** 0.05) < 1e-6, String(g.xDomain));
  t.deepEqual(g.xTicks, [10, 20, 50, 100, 200, 500, 1000]);
  t.true(g.px(10) > g.left && g.px(1000) < g.left + g.width);
  t.is(g.py(0), g.top + g.height);
  t.is(g.py(1), g.top);
});

test("ticks are round: 1-2-5 steps on a linear axis, 1-2-5 decades or powers of two on a log one", (t) => {
  t.deepEqual(linearTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  t.deepEqual(linearTicks(0, 100, 5), [0, 50, 100]);
  t.deepEqual(linearTicks(3, 97), [20, 40, 60, 80]);
  t.deepEqual(logTicks(1, 1000), [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]);
  t.deepEqual(logTicks(64, 1024, true), [64, 128, 256, 512, 1024]);
  t.deepEqual(logTicks(1, 1e6), [1, 10, 100, 1000, 10000, 100000, 1000000], "many decades: powers of ten only");
  t.is(formatTick(0.30000000000000004), "0.3");
  t.is(formatTick(12500), "12,500");
  t.is(formatTick(2e6), "2M");
  const g = plotGeometry({ ...OPTIONS, y: { label: "y" } });
  t.true(g.yTicks.every((v) => v >= g.yDomain[0] && v <= g.yDomain[1]));
  t.true(g.yDomain[0] <= 0.05 && g.yDomain[1] >= 0.9, "a computed domain covers the data");
});

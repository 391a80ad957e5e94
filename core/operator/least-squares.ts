/** Ordinary least-squares line y = intercept + slope·x in float64; undefined when x does not vary. */
export function fitLine(xs: readonly number[], ys: readonly number[]): { slope: number; intercept: number } | undefined {
  const n = xs.length;
  if (n < 2 || ys.length !== n) return undefined;
  const mx = xs.reduce((s, v) => s + v, 0) / n;
  const my = ys.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  if (!(sxx > 0)) return undefined;
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

// How cost grows with n: the least-squares slope of log(time) on log(n). Total time with a
// constant per-event cost has slope 1; per-event cost growing linearly (quadratic total) has 2.
export function loglogSlope(points: readonly { n: number; ms: number }[]): number {
  const xs = points.map((p) => Math.log(p.n)), ys = points.map((p) => Math.log(Math.max(p.ms, 1e-9)));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length, my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0, den = 0;
  for (let i = 0; i < xs.length; i++) { num += (xs[i] - mx) * (ys[i] - my); den += (xs[i] - mx) ** 2; }
  return den === 0 ? NaN : num / den;
}

export function growthClass(slope: number): 'constant per event' | 'log-ish' | 'linear per event (quadratic total)' | 'superlinear' {
  if (slope < 1.15) return 'constant per event';
  if (slope < 1.5) return 'log-ish';
  if (slope < 2.3) return 'linear per event (quadratic total)';
  return 'superlinear';
}

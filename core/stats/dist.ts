// Distribution functions: standard normal, Student t, and the exact null distribution of the
// Wilcoxon signed-rank statistic (which also gives Bin(n, 1/2)). The normal and t functions agree
// with scipy.stats to about 1e-12 or better (see test/dist.test.ts).

/** A confidence interval. */
export interface Interval {
  lo: number;
  hi: number;
  /**
   * The coverage the interval's method gives: the nominal level for t and bootstrap intervals,
   * the exact achieved level for the distribution-free (order-statistic) intervals, which can be
   * below the requested one when n is too small to reach it.
   */
  level: number;
}

/** p-values of one test under the three alternatives; `greater`: the location exceeds the null value. */
export interface PValues {
  twoSided: number;
  greater: number;
  less: number;
}

/** Standard normal CDF Φ(x). */
export function normalCdf(x: number): number {
  // Φ(x) = erfc(-x/√2)/2, with erfc(-z) = 2 - erfc(z): the lower tail keeps full relative precision.
  const z = x / Math.SQRT2;
  return z < 0 ? 0.5 * erfc(-z) : 1 - 0.5 * erfc(z);
}

/** Complementary error function for z >= 0: Taylor series of erf below 2, continued fraction above. */
function erfc(z: number): number {
  if (z < 2) {
    // erf(z) = 2/√π e^{-z²} Σ_k 2^k z^{2k+1} / (1·3·…·(2k+1)): positive terms, no cancellation.
    let term = z, sum = z;
    for (let k = 1; term > 1e-17 * sum; k++) {
      term *= (2 * z * z) / (2 * k + 1);
      sum += term;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * Math.exp(-z * z) * sum;
  }
  // erfc(z) = e^{-z²}/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + …)))), evaluated by modified Lentz.
  let f = z, c = z, d = 0;
  for (let k = 1; k < 500; k++) {
    d = 1 / (z + (k / 2) * d);
    c = z + k / 2 / c;
    f *= c * d;
    if (Math.abs(c * d - 1) < 1e-16) break;
  }
  return Math.exp(-z * z) / (Math.sqrt(Math.PI) * f);
}

/** Standard normal quantile Φ⁻¹(p): Acklam's rational approximation refined by one Halley step. */
export function normalQuantile(p: number): number {
  if (!(p > 0)) return p === 0 ? -Infinity : NaN;
  if (!(p < 1)) return p === 1 ? Infinity : NaN;
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  let x: number;
  if (p < 0.02425) x = tail(Math.sqrt(-2 * Math.log(p)));
  else if (p > 1 - 0.02425) x = -tail(Math.sqrt(-2 * Math.log1p(-p)));
  else {
    const q = p - 0.5, r = q * q;
    x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q)
      / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  const u = (normalCdf(x) - p) * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/** ln Γ(x) for x >= 0.5 (Lanczos, g = 7, 9 terms; relative error ~1e-15). */
function lnGamma(x: number): number {
  const g = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  const y = x - 1;
  let s = g[0];
  for (let i = 1; i < g.length; i++) s += g[i] / (y + i);
  const t = y + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(s);
}

/** Regularized incomplete beta I_x(a, b), a, b >= 0.5 (continued fraction, Numerical Recipes §6.4). */
function betaInc(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
  return x < (a + 1) / (a + b + 2) ? (front * betaCf(x, a, b)) / a : 1 - (front * betaCf(1 - x, b, a)) / b;
}

function betaCf(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  const step = (aa: number) => {
    d = 1 + aa * d;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    return c * d;
  };
  for (let m = 1; m <= 500; m++) {
    h *= step((m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)));
    const delta = step(-((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1)));
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return h;
}

/** Student t CDF with `df` > 0 degrees of freedom (df may be fractional). */
export function tCdf(t: number, df: number): number {
  if (Number.isNaN(t)) return NaN;
  const tail = 0.5 * betaInc(df / (df + t * t), df / 2, 0.5);
  return t > 0 ? 1 - tail : tail;
}

/** Student t quantile: the t with tCdf(t, df) = p. */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0)) return p === 0 ? -Infinity : NaN;
  if (!(p < 1)) return p === 1 ? Infinity : NaN;
  const upper = p > 0.5;
  const tailP = upper ? 1 - p : p; // solve P(T > t) = tailP for t >= 0
  let t: number;
  if (df === 1) t = 1 / Math.tan(Math.PI * tailP);
  else if (df === 2) t = (1 - 2 * tailP) / Math.sqrt(2 * tailP * (1 - tailP));
  else {
    // Newton from the normal quantile. P(T > t) is convex and decreasing for t > 0 and the normal
    // quantile lies below the t quantile, so the iterates increase monotonically to the root.
    t = Math.max(0, -normalQuantile(tailP));
    const lnC = lnGamma((df + 1) / 2) - lnGamma(df / 2) - 0.5 * Math.log(df * Math.PI);
    for (let i = 0; i < 200; i++) {
      const density = Math.exp(lnC - ((df + 1) / 2) * Math.log1p((t * t) / df));
      const step = (tCdf(-t, df) - tailP) / density;
      t += step;
      if (Math.abs(step) <= 1e-14 * Math.max(1, t)) break;
    }
  }
  return upper ? t : -t;
}

/**
 * Exact null distribution of S = Σ_i s_i·[sign_i = +] when each of the integer scores s_i gets
 * a + sign with probability 1/2 independently: the Wilcoxon signed-rank statistic for s_i = ranks
 * (or doubled mid-ranks under ties), and Bin(n, 1/2) for s_i = 1. Returns pmf[v] = P(S = v) for
 * v = 0..Σ s_i, in O(n·Σ s_i); exact in binary floating point while the counts fit in 53 bits.
 */
export function signedRankNull(scores: readonly number[]): Float64Array {
  const pmf = new Float64Array(scores.reduce((a, b) => a + b, 0) + 1);
  pmf[0] = 1;
  let reach = 0;
  for (const s of scores) {
    // new[v] = (old[v] + old[v - s]) / 2, in place from the top so that old[v - s] is still unread.
    reach += s;
    for (let v = reach; v >= 0; v--) pmf[v] = 0.5 * pmf[v] + (v >= s ? 0.5 * pmf[v - s] : 0);
  }
  return pmf;
}

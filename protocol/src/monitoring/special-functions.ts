/**
 * @module monitoring/special-functions
 * The distribution tails the drift tests need for their p-values: the chi-square survival
 * function (through the regularized upper incomplete gamma function) and the Kolmogorov
 * distribution's. Written out here, Numerical Recipes style, because protocol runs on devices
 * and must not pull a numerics library in for two functions.
 */

const EPSILON = 1e-15;
/** Smallest magnitude the continued fraction's terms are allowed (avoids dividing by zero). */
const TINY = 1e-300;
/** Iterations after which the series / continued fraction is declared non-convergent. */
const MAX_ITERATIONS = 100_000;

/** Lanczos coefficients for g = 7, n = 9: relative error below 1e-15 for positive arguments. */
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0. */
export function lnGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`lnGamma needs x > 0, got ${x}`);
  if (x < 0.5) {
    // Reflection keeps the Lanczos sum in the range where it is accurate.
    return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  }
  const z = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** P(a, x) by its power series; converges quickly for x < a + 1. */
function lowerGammaSeries(a: number, x: number): number {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < MAX_ITERATIONS; n++) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * EPSILON) {
      return sum * Math.exp(-x + a * Math.log(x) - lnGamma(a));
    }
  }
  throw new Error(`incomplete gamma series did not converge for a=${a}, x=${x}`);
}

/** Q(a, x) by its continued fraction (modified Lentz); converges quickly for x ≥ a + 1. */
function upperGammaFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) return Math.exp(-x + a * Math.log(x) - lnGamma(a)) * h;
  }
  throw new Error(`incomplete gamma continued fraction did not converge for a=${a}, x=${x}`);
}

/**
 * The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a). The continued
 * fraction is used wherever it converges fast, which is also where Q is small: computing it as
 * 1 − P there would lose every digit of a tiny p-value.
 */
export function gammaQ(a: number, x: number): number {
  if (!(a > 0)) throw new RangeError(`gammaQ needs a > 0, got ${a}`);
  if (!(x >= 0)) throw new RangeError(`gammaQ needs x ≥ 0, got ${x}`);
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  return x < a + 1 ? 1 - lowerGammaSeries(a, x) : upperGammaFraction(a, x);
}

/** P(χ²_dof ≥ statistic): the p-value of a chi-square test. */
export function chiSquareSurvival(statistic: number, dof: number): number {
  if (!(dof > 0)) throw new RangeError(`chi-square needs dof > 0, got ${dof}`);
  if (!(statistic > 0)) return 1;
  return gammaQ(dof / 2, statistic / 2);
}

/**
 * P(K > λ) for the Kolmogorov distribution (the limit of √n·D). Below λ ≈ 1.18 the alternating
 * series converges slowly, so the CDF's theta-function form is summed there instead; each form
 * needs only a handful of terms on its side.
 */
export function kolmogorovSurvival(lambda: number): number {
  if (!(lambda > 0)) return 1;
  if (lambda < 1.18) {
    const piOverLambda = Math.PI / lambda;
    const w = (-piOverLambda * piOverLambda) / 8;
    let cdf = 0;
    for (let k = 1; k < 100; k += 2) {
      const term = Math.exp(k * k * w);
      cdf += term;
      if (term < EPSILON * cdf) break;
    }
    cdf *= Math.sqrt(2 * Math.PI) / lambda;
    return Math.min(1, Math.max(0, 1 - cdf));
  }
  let sum = 0;
  let sign = 1;
  for (let k = 1; k < 100; k++) {
    const term = Math.exp(-2 * k * k * lambda * lambda);
    sum += sign * term;
    if (term < EPSILON * sum) break;
    sign = -sign;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

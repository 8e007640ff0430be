/**
 * Che's approximation of an LRU cache under the independent reference model (Che, Tung, Wang,
 * "Hierarchical Web caching systems: modeling, design and experimental results", IEEE JSAC 2002;
 * Fricker, Robert, Roberts, "A versatile and accurate approximation for LRU cache performance",
 * ITC 2012): a page of request probability p_i is in a cache of C pages with probability
 * 1 − e^(−p_i·T), where the characteristic time T solves Σ_i (1 − e^(−p_i·T)) = C; the hit ratio is
 * H = Σ_i p_i·(1 − e^(−p_i·T)).
 */
import { fail } from "@folio/core";

/** Σ_i (1 − e^(−p_i·t)) and its derivative Σ_i p_i·e^(−p_i·t). */
function occupancy(p: ArrayLike<number>, t: number): { f: number; df: number } {
  let f = 0;
  let df = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]!;
    if (pi <= 0) continue;
    f += -Math.expm1(-pi * t);
    df += pi * Math.exp(-pi * t);
  }
  return { f, df };
}

/**
 * The characteristic time T of an LRU cache of `capacity` pages under request probabilities
 * `probabilities` (summing to 1), to a relative precision of 1e-12 (Newton steps kept inside a
 * bisection bracket). Infinity when every page fits.
 */
export function cheCharacteristicTime(probabilities: ArrayLike<number>, capacity: number): number {
  if (!(capacity >= 0)) throw fail("EINVAL", `capacity ${capacity}`);
  let pages = 0;
  for (let i = 0; i < probabilities.length; i++) {
    const pi = probabilities[i]!;
    if (!(pi >= 0)) throw fail("EINVAL", `probability ${pi} at ${i}`);
    if (pi > 0) pages++;
  }
  if (capacity >= pages) return Infinity;
  if (capacity === 0) return 0;
  // Bracket: occupancy is increasing in t, 0 at t = 0 and → pages as t → ∞.
  let lo = 0;
  let hi = capacity;
  while (occupancy(probabilities, hi).f < capacity) hi *= 2;
  let t = (lo + hi) / 2;
  for (let iter = 0; iter < 400; iter++) {
    const { f, df } = occupancy(probabilities, t);
    const g = f - capacity;
    if (g === 0) return t;
    if (g < 0) lo = t;
    else hi = t;
    let nt = df > 0 ? t - g / df : NaN;
    if (!(nt > lo && nt < hi)) nt = (lo + hi) / 2;
    if (Math.abs(nt - t) <= 1e-12 * Math.abs(nt) || hi - lo <= 1e-12 * hi) return nt;
    t = nt;
  }
  return t;
}

/** Che's approximation of the LRU hit ratio: H = Σ p_i·(1 − e^(−p_i·T)). */
export function cheHitRatio(probabilities: ArrayLike<number>, capacity: number): number {
  const t = cheCharacteristicTime(probabilities, capacity);
  let h = 0;
  let total = 0;
  for (let i = 0; i < probabilities.length; i++) {
    const pi = probabilities[i]!;
    total += pi;
    h += t === Infinity ? pi : pi * -Math.expm1(-pi * t);
  }
  return total > 0 ? h / total : 0;
}

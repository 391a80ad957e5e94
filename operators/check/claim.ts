/**
 * What every check.* operator returns on its `claim` port: whether a paper's claim held, the
 * measured value, and a sentence. The engine lists these in the manifest and prints them as
 * PASS/FAIL (`--check` turns a FAIL into exit code 1).
 */
import { json } from '../../core/operator/index.js';
import type { JsonValue } from '../../core/operator/index.js';

export interface Claim {
  pass: boolean;
  /** The measured quantity (a slope, a ratio, the worst violation…). */
  value: number | null;
  /** The claim in words, e.g. "slope of log y over log x in [−0.65, −0.35]". */
  message: string;
  [key: string]: JsonValue;
}

export const claimPort = { claim: json({ doc: '{pass, value, message}: whether the claim held and what was measured' }) };

/** Reads a tensor input's values as float64 numbers (async: GPU backends read back asynchronously). */
export async function values(t: { data(): Promise<ArrayLike<number>> }): Promise<number[]> {
  return Array.from(await t.data());
}

export function formatNumber(v: number): string {
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : Number(v.toPrecision(4)).toString();
}

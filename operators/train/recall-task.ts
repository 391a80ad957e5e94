/**
 * The associative-recall task of train.attention_recall, sampled in JavaScript from a seeded Rng so
 * that a seed gives the same sequences on every backend.
 *
 * A sequence is n key→value pairs followed by a query key. Each pair is ONE token, the
 * concatenation [onehot(key) ; onehot(value)] of width E = n_keys + n_values, so a single attention
 * layer can solve it (match the query against the key half, read the value half); with separate
 * key and value tokens it would need two layers (an induction head). The n keys of a sequence are
 * distinct (a prefix of a random permutation of the n_keys keys), the values i.i.d. uniform, the
 * query one of the n keys uniformly and the target its value. With label noise p the observed
 * label is, with probability p, replaced by a uniform draw over the values (irreducible noise, so the
 * best achievable loss is the entropy of the label distribution rather than 0).
 */
import { Rng } from '../model/rng.js';

export interface RecallSpec {
  nPairs: number;
  nKeys: number;
  nValues: number;
}

export interface RecallBatch {
  /** Context tokens [B·n, E] (row b·n + j is pair j of sequence b), one-hot halves. */
  context: Float32Array;
  /** Query tokens [B, E]: onehot(query key) and a zero value half. */
  query: Float32Array;
  /** The true value index per sequence [B]. */
  target: Int32Array;
  /** The observed (possibly noisy) label per sequence [B]. */
  label: Int32Array;
  batch: number;
}

/** Width of a token: n_keys + n_values. */
export const tokenWidth = (s: RecallSpec): number => s.nKeys + s.nValues;

/** Draws `batch` sequences from `rng` (advancing it). */
export function sampleRecall(rng: Rng, s: RecallSpec, batch: number, labelNoise = 0): RecallBatch {
  const E = tokenWidth(s);
  const context = new Float32Array(batch * s.nPairs * E);
  const query = new Float32Array(batch * E);
  const target = new Int32Array(batch);
  const label = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    const keys = rng.permutation(s.nKeys);
    const values = Array.from({ length: s.nPairs }, () => rng.int(s.nValues));
    const qi = rng.int(s.nPairs);
    for (let j = 0; j < s.nPairs; j++) {
      const row = (b * s.nPairs + j) * E;
      context[row + keys[j]] = 1;
      context[row + s.nKeys + values[j]] = 1;
    }
    query[b * E + keys[qi]] = 1;
    target[b] = values[qi];
    // Drawn only when noisy, so that noise-free streams do not depend on this option.
    label[b] = labelNoise > 0 && rng.uniform() < labelNoise ? rng.int(s.nValues) : target[b];
  }
  return { context, query, target, label, batch };
}

/** The entropy of the observed label given the true one: the least achievable expected loss. */
export function noiseFloor(labelNoise: number, nValues: number): number {
  const hit = 1 - labelNoise + labelNoise / nValues;
  const miss = labelNoise / nValues;
  return -(hit * Math.log(hit)) - (miss > 0 ? (nValues - 1) * miss * Math.log(miss) : 0);
}

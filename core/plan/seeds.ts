/**
 * Per-node seeds derived from the graph seed and the node id, so adding or removing an unrelated
 * node never changes another node's random draws.
 */
import { createHash } from 'node:crypto';

/** A 31-bit seed (tfjs seeds are JS numbers fed to seedrandom; keep them exact and positive). */
export function nodeSeed(graphSeed: number, nodeId: string): number {
  const digest = createHash('sha256').update(`kernelflow-seed\u0000${graphSeed}\u0000${nodeId}`).digest();
  // Never 0: tfjs treats a falsy seed as "no seed" and would draw from Math.random.
  return digest.readUInt32LE(0) & 0x7fffffff || 1;
}

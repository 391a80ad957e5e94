/**
 * attention/windows — NATTEN neighbourhood windows (SHI-Labs/NATTEN `get_window_start`), per axis.
 * Dilation d splits the axis into groups by i mod d; inside a group (coordinate p = i div d, length
 * Lg = ceil((n − g)/d)):
 *  - non-causal: left = k//2, right = k//2 − (k even), centre c = clamp(p, left, Lg − 1 − right),
 *    keys p' ∈ [c − left, c + right] — shifted at borders, never truncated (exactly k keys);
 *  - causal: keys 0 ≤ p − p' < k, not clamped (early queries see fewer keys).
 */

export interface AxisWindows {
  /** [n·k] absolute key index per (query, slot); an invalid slot points at 0. */
  index: Int32Array;
  /** [n·k] 1 for a real key, 0 for a padding slot (causal only). */
  valid: Float32Array;
  k: number;
}

export function axisWindows(n: number, k: number, d: number, causal: boolean): AxisWindows {
  if (k * d > n) throw new Error(`kernel_size·dilation = ${k * d} exceeds the axis length ${n}`);
  const index = new Int32Array(n * k);
  const valid = new Float32Array(n * k);
  const left = Math.floor(k / 2);
  const right = Math.floor(k / 2) - (k % 2 === 0 ? 1 : 0);
  for (let i = 0; i < n; i++) {
    const g = i % d;
    const p = Math.floor(i / d);
    const lg = Math.ceil((n - g) / d);
    for (let s = 0; s < k; s++) {
      let pk: number;
      if (causal) pk = p - (k - 1) + s;
      else pk = Math.min(Math.max(p, left), lg - 1 - right) - left + s;
      const ok = pk >= 0 && pk < lg;
      index[i * k + s] = ok ? pk * d + g : 0;
      valid[i * k + s] = ok ? 1 : 0;
    }
  }
  return { index, valid, k };
}

/** The 2-D window: Cartesian product of the per-axis windows over a row-major X×Y grid. */
export function gridWindows(ax: AxisWindows, ay: AxisWindows, nx: number, ny: number): AxisWindows {
  const k = ax.k * ay.k;
  const index = new Int32Array(nx * ny * k);
  const valid = new Float32Array(nx * ny * k);
  for (let x = 0; x < nx; x++) {
    for (let y = 0; y < ny; y++) {
      const base = (x * ny + y) * k;
      for (let a = 0; a < ax.k; a++) {
        for (let b = 0; b < ay.k; b++) {
          const s = base + a * ay.k + b;
          const ok = ax.valid[x * ax.k + a] * ay.valid[y * ay.k + b];
          index[s] = ok ? ax.index[x * ax.k + a] * ny + ay.index[y * ay.k + b] : 0;
          valid[s] = ok;
        }
      }
    }
  }
  return { index, valid, k };
}

/** What every benchmark script shares: its command-line flags and the Python its peers run under. */

/** `--name value` from the command line, else `fallback`. */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** A comma-separated flag value as a list. */
export const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

/**
 * The Python that runs the numpy / scikit-learn peers: `python3` on the PATH, or
 * $KERNELFLOW_BENCH_PYTHON (e.g. Debian's /usr/bin/python3 with python3-sklearn installed).
 */
export const PYTHON = process.env.KERNELFLOW_BENCH_PYTHON || 'python3';

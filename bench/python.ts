/**
 * The Python that runs the benchmarks' numpy / scikit-learn peers: `python3` on the PATH, or
 * $KERNELFLOW_BENCH_PYTHON (e.g. Debian's /usr/bin/python3 with python3-sklearn installed).
 */
export const PYTHON = process.env.KERNELFLOW_BENCH_PYTHON || 'python3';

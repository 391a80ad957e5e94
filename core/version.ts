/** kernelflow's own version, read once from package.json (bundled into the CLI by esbuild). */
import pkg from '../package.json' with { type: 'json' };

export const KERNELFLOW_VERSION: string = pkg.version;

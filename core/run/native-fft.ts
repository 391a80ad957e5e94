/**
 * The native backend's `FFT` and `IFFT` kernels (native/fft.c): a batched complex FFT over the
 * innermost axis, double precision inside, any length (radix-2, Bluestein otherwise). tfjs's
 * spectral ops (fft, ifft, rfft, irfft) all reach these two kernels. tfjs-backend-cpu's own
 * kernel is a recursive JavaScript radix-2 (an O(n²) DFT when n is not a power of two) that
 * allocates tensors per row and per level.
 *
 * Input and output are complex64 tensors as the cpu backend stores them: the complex tensor's
 * data holds `complexTensorInfos.{real, imag}`, two float32 tensors. The output is built like
 * tfjs-backend-cpu's FFT kernel builds it: two float32 TensorInfos combined by the `Complex`
 * kernel, the two intermediates disposed. A kernel returns undefined (cpu computes it) for an
 * empty tensor, unexpected storage, or an addon built before `fft` existed.
 */
import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeAddon } from './native-addon.js';

/** What these kernels need of `MathBackendCPU`. */
export interface CpuComplexLike {
  data: { get(dataId: object): { values?: unknown; complexTensorInfos?: { real: TensorInfo; imag: TensorInfo } } };
  makeTensorInfo(shape: number[], dtype: 'float32', values?: Float32Array): TensorInfo;
  disposeIntermediateTensorInfo(t: TensorInfo): void;
}

interface FftArgs {
  inputs: NamedTensorInfoMap;
  backend: CpuComplexLike;
  attrs?: NamedAttrMap;
}

type FftKernel = (args: FftArgs) => TensorInfo | undefined;

/**
 * The `FFT` and `IFFT` kernel bodies for nativeKernels' `def`. `complex` runs the backend's
 * `Complex` kernel (real and imag float32 TensorInfos → one complex64 TensorInfo).
 */
export function nativeFftKernels(
  addon: Pick<NativeAddon, 'fft'>,
  complex: (real: TensorInfo, imag: TensorInfo, backend: CpuComplexLike) => TensorInfo,
): Array<[name: 'FFT' | 'IFFT', kernel: FftKernel]> {
  const make =
    (inverse: boolean): FftKernel =>
    ({ inputs, backend }) => {
      const input = inputs.input as TensorInfo | undefined;
      if (!addon.fft || !input || input.dtype !== 'complex64' || input.shape.length === 0) return undefined;
      const n = input.shape[input.shape.length - 1];
      const size = input.shape.reduce((p, d) => p * d, 1);
      if (size === 0) return undefined;
      const parts = backend.data.get(input.dataId).complexTensorInfos;
      const re = parts && backend.data.get(parts.real.dataId).values;
      const im = parts && backend.data.get(parts.imag.dataId).values;
      if (!(re instanceof Float32Array) || !(im instanceof Float32Array) || re.length !== size || im.length !== size) return undefined;
      const outRe = new Float32Array(size), outIm = new Float32Array(size);
      addon.fft(re, im, outRe, outIm, size / n, n, inverse);
      const real = backend.makeTensorInfo(input.shape.slice(), 'float32', outRe);
      const imag = backend.makeTensorInfo(input.shape.slice(), 'float32', outIm);
      const out = complex(real, imag, backend);
      backend.disposeIntermediateTensorInfo(real);
      backend.disposeIntermediateTensorInfo(imag);
      return out;
    };
  return [['FFT', make(false)], ['IFFT', make(true)]];
}

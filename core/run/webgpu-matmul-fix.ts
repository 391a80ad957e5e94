/**
 * tfjs-webgpu 4.22 computes a·bᵀ wrongly through its transposeB path when the inner dimension
 * reaches 2048 and the output is small (seen on lavapipe and documented in
 * docs/writing-operators.md). Every operator calls tf.matMul(a, b, false, true) somewhere, so the
 * fix belongs to the backend, not to operators: the webgpu BatchMatMul and _FusedMatMul kernels
 * are wrapped to transpose b with the backend's own Transpose kernel and multiply without
 * transposeB.
 */
import type * as TFCore from '@tensorflow/tfjs-core';

type TF = typeof TFCore;
const PATCHED = new WeakSet<object>();

export function fixWebgpuTransposeB(tf: TF): void {
  const transpose = tf.getKernel('Transpose', 'webgpu');
  for (const name of ['BatchMatMul', '_FusedMatMul']) {
    const config = tf.getKernel(name, 'webgpu');
    if (!config || !transpose || PATCHED.has(config.kernelFunc)) continue;
    const original = config.kernelFunc;
    const kernelFunc: TFCore.KernelFunc = (args) => {
      const attrs = args.attrs as { transposeB?: boolean } | undefined;
      const b = args.inputs.b as TFCore.TensorInfo | undefined;
      if (!attrs?.transposeB || !b || b.shape.length < 2) return original(args);
      const rank = b.shape.length;
      const perm = [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
      const bt = transpose.kernelFunc({ inputs: { x: b }, backend: args.backend, attrs: { perm } }) as TFCore.TensorInfo;
      try {
        return original({ ...args, inputs: { ...args.inputs, b: bt }, attrs: { ...attrs, transposeB: false } as TFCore.NamedAttrMap });
      } finally {
        (args.backend as TFCore.KernelBackend).disposeData(bt.dataId);
      }
    };
    PATCHED.add(kernelFunc);
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel({ ...config, kernelFunc });
  }
}

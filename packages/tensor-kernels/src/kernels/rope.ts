// Rotary position embedding (golden/README §4.2). With `inverse` the rotation is by −angle, which
// is also the gradient of the forward rotation (a rotation's transpose is its inverse).
import { Rope } from '../kernel_names';
import type { RopeAttrs } from '../kernel_names';
import type { KernelSpec } from './kernel_spec';

/** x [B, S, H, d] | [B, S, d], cos/sin [S, d/2] | [B, S, d/2] → y with x's shape. */
export const ropeSpec: KernelSpec = {
  kernelName: Rope,
  outputs: ({ x }) => [{ shape: x.shape, dtype: 'float32' }],
  compute({ x, cos, sin }, [y], attrs) {
    const { layout, inverse } = attrs as unknown as RopeAttrs;
    const sign = inverse ? -1 : 1;
    const X = x.values;
    const C = cos.values;
    const Sn = sin.values;
    const [B, S] = x.shape;
    const d = x.shape[x.shape.length - 1];
    const H = x.shape.length === 4 ? x.shape[2] : 1;
    const h = d / 2;
    const perRow = cos.shape.length === 3;
    // Element offsets of the pair (a, b) for pair i: (2i, 2i+1) interleaved, (i, i+d/2) half.
    const aStride = layout === 'half' ? 1 : 2;
    const bOff = layout === 'half' ? h : 1;
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < S; s++) {
        const t = (perRow ? b * S + s : s) * h; // row of the cos/sin table
        for (let hh = 0; hh < H; hh++) {
          const o = ((b * S + s) * H + hh) * d;
          for (let i = 0; i < h; i++) {
            const c = C[t + i];
            const sn = sign * Sn[t + i];
            const ia = o + i * aStride;
            const ib = ia + bOff;
            const xa = X[ia];
            const xb = X[ib];
            y[ia] = xa * c - xb * sn;
            y[ib] = xa * sn + xb * c;
          }
        }
      }
    }
  },
};

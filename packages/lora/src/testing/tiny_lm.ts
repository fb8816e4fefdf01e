import * as tf from '@tensorflow/tfjs';
import { Module, Rng, linear } from '@r1-ts/tensor-kernels';

// A two-layer toy causal LM whose projections all go through `linear` (as the dense families'
// do), with HF-style names, so LoRA is tested without depending on @r1-ts/model.

class Layer extends Module {
  readonly q_proj = this.param('q_proj.weight', [8, 8], { normal: 0.3 });
  readonly q_bias = this.param('q_proj.bias', [8], { normal: 0.1 });
  readonly up_proj = this.param('up_proj.weight', [12, 8], { normal: 0.3 });
  readonly down_proj = this.param('down_proj.weight', [8, 12], { normal: 0.3 });
  readonly norm = this.param('input_layernorm.weight', [8], { constant: 1 });

  forward(x: tf.Tensor): tf.Tensor {
    const h = tf.tanh(linear(x, this.q_proj, this.q_bias)); // [B, S, 8]
    return tf.add(x, linear(tf.relu(linear(h, this.up_proj)), this.down_proj)); // [B, S, 8]
  }
}

export class TinyLm extends Module {
  readonly embed = this.param('model.embed_tokens.weight', [16, 8], { normal: 0.5 });
  readonly blocks = [0, 1].map((i) => this.child(`model.layers.${i}`, new Layer(this.rng)));
  readonly head = this.param('lm_head.weight', [16, 8], { normal: 0.3 });

  constructor(seed = 0) {
    super(new Rng(seed));
  }

  /** logits [B, S, 16] of token ids [B, S]. */
  forward(ids: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      let x: tf.Tensor = tf.gather(this.embed, ids); // [B, S, 8]
      for (const b of this.blocks) x = b.forward(x);
      return linear(x, this.head) as tf.Tensor3D; // [B, S, 16]
    });
  }
}

//! Dropout: zeroes each element with probability `p` while training and scales the kept ones
//! by `1 / (1 - p)` ("inverted" dropout, so the expected value is unchanged and evaluation
//! needs no rescaling); the identity in evaluation.
//!
//! ```text
//! y_i = x_i * keep_i / (1 - p),   keep_i = 1 with probability 1 - p, else 0   (training)
//! y_i = x_i                                                                     (evaluation)
//! ```
//!
//! Shapes in words: any shape, unchanged. Like `F.dropout(x, p, training)`, but seeded: the
//! mask comes from the [`Rng`] passed in (one draw per call), so a run repeats exactly. The
//! [`Dropout`](crate::nn::Dropout) layer keeps its own generator.
//!
//! The mask multiplies, as in PyTorch: a dropped element is `x * 0`, so a NaN or an infinity
//! stays NaN there (`F.dropout` gives the same); the gradient is the mask times
//! `1 / (1 - p)`, finite. `p = 1` drops everything: the output is `x * 0` (zeros for finite
//! `x`) and the gradient zeros, as in PyTorch. A rate outside `[0, 1]` panics, in evaluation
//! too.
//!
//! ```
//! use shapetorch::prelude::*;
//! let x = Tensor1::<f32, 8>::ones();
//! let mut rng = Rng::new(0);
//! let y = x.dropout(0.5, &mut rng, true);
//! // every element is 0 (dropped) or 1 / (1 - 0.5) = 2 (kept)
//! assert!(y.as_slice().iter().all(|&v| v == 0.0 || v == 2.0));
//! assert_eq!(x.dropout(0.5, &mut rng, false).to_vec(), x.to_vec()); // evaluation
//! ```

use crate::memory::Buffer;
use crate::shape::Shape;
use crate::tensor::{Element, Rng, Tensor};

/// Whether element `i` of the mask seeded with `seed` is kept: draws the mask's stream in
/// order, one uniform number per element, keeping it when the number is at least `p`.
struct Mask {
    rng: Rng,
    p: f64,
}

impl Mask {
    fn new(seed: u64, p: f64) -> Self {
        Mask {
            rng: Rng::new(seed),
            p,
        }
    }

    /// Keep the next element? (`true` with probability `1 - p`.)
    fn keep(&mut self) -> bool {
        self.rng.uniform() >= self.p
    }
}

/// Panics unless `p` lies in `[0, 1]`, with PyTorch's wording.
fn check_rate(p: f64) {
    assert!(
        (0.0..=1.0).contains(&p),
        "dropout: the rate has to lie in [0, 1], but got {p}"
    );
}

impl<E: Element, S: Shape> Tensor<E, S> {
    /// Dropout with rate `p` (the probability of zeroing an element) when `training`; the
    /// same tensor (a clone, no op recorded) otherwise, or when `p = 0`.
    ///
    /// In training, draws one `u64` from `rng` (whatever `p`) as the seed of this call's mask
    /// and scales the kept elements by `1 / (1 - p)`; with `p = 1` every element is dropped.
    /// The backward pass multiplies the gradient by the same mask: it keeps the mask's seed (8
    /// bytes) and draws the mask again, instead of keeping a mask as large as the tensor.
    ///
    /// Panics unless `0 <= p <= 1`.
    pub fn dropout(&self, p: f64, rng: &mut Rng, training: bool) -> Self {
        check_rate(p);
        if !training {
            return self.clone();
        }
        let seed = rng.next_u64();
        if p == 0.0 {
            return self.clone();
        }
        // 1 / (1 - p); 0 when everything is dropped (p = 1), so nothing is divided by 0.
        let scale = if p < 1.0 {
            E::of(1.0 / (1.0 - p))
        } else {
            E::zero()
        };
        let mut mask = Mask::new(seed, p);
        let mut y = Buffer::for_overwrite(self.numel());
        for (y, &x) in y.iter_mut().zip(self.as_slice()) {
            // y = x * keep / (1 - p): a product, also where dropped, so NaN * 0 stays NaN
            *y = x * if mask.keep() { scale } else { E::zero() };
        }
        let (x_id, len) = (self.id(), self.numel());
        Tensor::from_op(
            "dropout",
            *self.shape(),
            y,
            &[self],
            move |grad_y, grads| {
                // grad_x = grad_y * keep / (1 - p), with the forward pass's mask drawn again
                let mut mask = Mask::new(seed, p);
                for (gx, &gy) in grads.accumulator(x_id, len).iter_mut().zip(grad_y) {
                    if mask.keep() {
                        *gx += gy * scale;
                    }
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    #[test]
    fn kept_elements_are_scaled_and_the_gradient_uses_the_same_mask() {
        // p = 0.25: kept elements are multiplied by 1 / 0.75
        let tape = Tape::new();
        let x = Tensor2::<f64, 4, 8>::rand_uniform(1, 1.0, 2.0).trace(&tape);
        let y = x.dropout(0.25, &mut Rng::new(3), true);
        let scale = 1.0 / 0.75;
        for (&y, &x) in y.as_slice().iter().zip(x.as_slice()) {
            assert!(y == 0.0 || (y - x * scale).abs() < 1e-12, "{y} from {x}");
        }
        let grad = (&y * &y.detach()).sum_all().backward().get(&x).unwrap();
        // d/dx sum(y * y_const) = y_const * scale where kept, 0 where dropped
        for ((&g, &y), &x) in grad.as_slice().iter().zip(y.as_slice()).zip(x.as_slice()) {
            let want = if y == 0.0 { 0.0 } else { x * scale * scale };
            assert!((g - want).abs() < 1e-12, "{g} vs {want}");
        }
    }

    #[test]
    fn gradient_matches_central_differences() {
        let x = Tensor2::<f64, 3, 5>::randn(4);
        // each evaluation draws the same mask: a fresh generator with the same seed
        gradcheck("dropout", &x, |x| x.dropout(0.4, &mut Rng::new(9), true)).unwrap();
    }

    #[test]
    fn seeded_masks_repeat_and_the_generator_advances() {
        let x = Tensor1::<f32, 64>::ones();
        let mut a = Rng::new(5);
        let first = x.dropout(0.5, &mut a, true);
        let second = x.dropout(0.5, &mut a, true);
        assert_ne!(first.to_vec(), second.to_vec(), "a new mask per call");
        let mut b = Rng::new(5);
        assert_eq!(x.dropout(0.5, &mut b, true).to_vec(), first.to_vec());
        assert_eq!(x.dropout(0.5, &mut b, true).to_vec(), second.to_vec());
    }

    #[test]
    fn the_rate_of_dropped_elements_is_p_and_the_mean_is_kept() {
        for p in [0.1, 0.5, 0.8] {
            let x = Tensor1::<f64, 20000>::ones();
            let y = x.dropout(p, &mut Rng::new(7), true);
            let dropped = y.as_slice().iter().filter(|&&v| v == 0.0).count() as f64 / 20000.0;
            // the standard deviation of the fraction is sqrt(p (1 - p) / n) < 0.0036
            assert!((dropped - p).abs() < 0.015, "p = {p}: dropped {dropped}");
            let mean = y.mean_all().item();
            assert!((mean - 1.0).abs() < 0.1, "p = {p}: mean {mean}");
        }
    }

    #[test]
    fn identity_in_evaluation_and_at_rate_0_zeros_at_rate_1() {
        let tape = Tape::new();
        let x = Tensor1::<f64, 5>::randn(6).trace(&tape);
        let mut rng = Rng::new(1);
        let eval = x.dropout(0.5, &mut rng, false);
        assert_eq!(eval.to_vec(), x.to_vec());
        assert_eq!(eval.id(), x.id(), "evaluation records nothing");
        assert_eq!(x.dropout(0.0, &mut rng, true).to_vec(), x.to_vec());
        let all = x.dropout(1.0, &mut rng, true);
        assert_eq!(all.to_vec(), vec![0.0; 5]);
        let grad = all.sum_all().backward().get(&x).unwrap();
        assert_eq!(grad.to_vec(), vec![0.0; 5]);
    }

    #[test]
    #[should_panic(expected = "dropout: the rate has to lie in [0, 1], but got 1.5")]
    fn a_rate_outside_0_1_panics() {
        Tensor1::<f32, 2>::ones().dropout(1.5, &mut Rng::new(0), false);
    }
}

//! The lecture's *unroll* view: each output position's input window laid out as one row, so
//! that a convolution becomes a matrix multiply.
//!
//! For a sequence `input` of length `T` and a kernel of width `K`, row `t` of the unrolled
//! matrix is `[input[t], input[t+1], ..., input[t+K-1]]`, zero past the end (the teaching
//! convention: output width equals input width, kernel anchored at the left). With `C` input
//! channels, row `t` concatenates the windows of every channel: `unrolled[t, c*K + k] =
//! input[c, t + k]`, a `T x (C*K)` matrix; times a `(C*K) x O` weight it gives the `T x O`
//! output of a convolution with `O` output channels.
//!
//! ```
//! use shapetorch::prelude::*;
//! let input = Tensor1::<f32, 6>::from_slice(&[1., 2., 3., 4., 5., 6.]).unwrap();
//! let unrolled: Tensor2<f32, 6, 3> = input.unroll::<3>();
//! assert_eq!(unrolled.to_vec()[15..], [6., 0., 0.]);
//! let weight = Tensor2::<f32, 3, 1>::from_slice(&[5., 2., 3.]).unwrap();
//! assert_eq!(unrolled.matmul(&weight).to_vec(), vec![18., 28., 38., 48., 37., 30.]);
//! ```

use crate::shape::{Dim, Dimension, MulDims};
use crate::tensor::{Element, Tensor};

/// Visits every element of the unrolled `[t, channels*k]` matrix that copies an input element:
/// `visit(out, input)` with `out = pos*channels*k + c*k + j` and `input = c*t + pos + j`, for
/// `pos + j < t` (the others are the zeros past the end). The forward pass copies along these
/// pairs and the backward pass adds along them, so no table of them is kept.
fn for_each_tap(channels: usize, t: usize, k: usize, mut visit: impl FnMut(usize, usize)) {
    let width = channels * k;
    for pos in 0..t {
        for c in 0..channels {
            for j in 0..k.min(t - pos) {
                visit(pos * width + c * k + j, c * t + pos + j);
            }
        }
    }
}

/// Records an unroll of `x` (row-major `[channels, t]`) with a kernel of width `k` into shape
/// `S`: `out[pos, c*k + j] = x[c, pos + j]`, zero past the end.
fn unroll_op<E: Element, Sx: crate::shape::Shape, S: crate::shape::Shape>(
    x: &Tensor<E, Sx>,
    dst: S,
    channels: usize,
    t: usize,
    k: usize,
) -> Tensor<E, S> {
    let input = x.as_slice();
    let mut out = vec![E::zero(); dst.numel()];
    for_each_tap(channels, t, k, |o, i| out[o] = input[i]);
    let (x_id, len) = (x.id(), x.numel());
    Tensor::from_op("unroll", dst, out, &[x], move |grad_out, grads| {
        let grad_x = grads.accumulator(x_id, len);
        for_each_tap(channels, t, k, |o, i| grad_x[i] += grad_out[o]);
    })
}

impl<E: Element, T: Dimension> Tensor<E, (T,)> {
    /// Unrolls a sequence of length `T` with a kernel of width `K` into a `T x K` matrix:
    /// `unrolled[t, k] = input[t + k]`, zero past the end.
    pub fn unroll<const K: usize>(&self) -> Tensor<E, (T, Dim<K>)> {
        let t = self.shape().0;
        unroll_op(self, (t, Dim), 1, t.size(), K)
    }
}

impl<E: Element, C: Dimension, T: Dimension> Tensor<E, (C, T)> {
    /// Unrolls `C` channels of length `T` with a kernel of width `K` into a `T x (C*K)` matrix:
    /// `unrolled[t, c*K + k] = input[c, t + k]`, zero past the end. `C*K` is computed by the
    /// compiler.
    pub fn unroll<const K: usize>(&self) -> Tensor<E, (T, <C as MulDims<Dim<K>>>::Output)>
    where
        C: MulDims<Dim<K>>,
    {
        let (c, t) = *self.shape();
        unroll_op(self, (t, Default::default()), c.size(), t.size(), K)
    }
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    #[test]
    fn unrolls_the_lecture_sequence() {
        let x = Tensor1::<f64, 6>::from_slice(&[1., 2., 3., 4., 5., 6.]).unwrap();
        let u = x.unroll::<3>();
        #[rustfmt::skip]
        assert_eq!(u.to_vec(), vec![
            1., 2., 3.,
            2., 3., 4.,
            3., 4., 5.,
            4., 5., 6.,
            5., 6., 0.,
            6., 0., 0.,
        ]);
    }

    #[test]
    fn unrolls_channels_side_by_side() {
        // channel 0 = 1..=4, channel 1 = 10..=40; K = 2
        let x =
            Tensor2::<f64, 2, 4>::from_fn(|[c, t]| ((t + 1) * if c == 0 { 1 } else { 10 }) as f64);
        let u: Tensor2<f64, 4, 4> = x.unroll::<2>();
        #[rustfmt::skip]
        assert_eq!(u.to_vec(), vec![
            1., 2., 10., 20.,
            2., 3., 20., 30.,
            3., 4., 30., 40.,
            4., 0., 40., 0.,
        ]);
    }

    #[test]
    fn unroll_gradient_matches_central_differences() {
        let x = Tensor2::<f64, 3, 5>::randn(11);
        gradcheck("unroll", &x, |x| x.unroll::<3>()).unwrap();
    }
}

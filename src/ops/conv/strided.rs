//! Strided convolution: the direct loops for a stride above 1 along either axis (the forward
//! pass and the weight's gradient; the input's gradient is a stride-1 correlation at any
//! stride, `direct.rs`), the formula's loops reordered so the innermost loop runs along
//! contiguous memory, and split across threads by output slices that no two threads share:
//! 1. the zero padding is written out once per call (`Padded`), so every kernel tap of every
//!    output reads inside a buffer and no loop tests a position against the edges;
//! 2. the innermost loops run over slices that cannot alias, so LLVM emits SIMD code with no
//!    bounds checks; sums keep `LANES` independent partial sums so that they vectorise too;
//! 3. each rayon task owns one plane of the result (`par_chunks_mut`), which stays in cache
//!    while every channel and tap is added into it, and needs no locks.
//!
//! Same contract as [`naive`](super::naive): `forward` overwrites, the gradients add.

use super::layout::Padded;
use super::ConvGeometry;
use crate::ops::parallel::for_each_chunk;
use crate::tensor::Element;

/// Overwrites `output` with the convolution of `input` and `weight` (formula in
/// [`ConvGeometry`]): one task per `(b, o)` output plane.
pub(super) fn forward<E: Element>(g: &ConvGeometry, input: &[E], weight: &[E], output: &mut [E]) {
    g.check("strided::forward", input.len(), weight.len(), output.len());
    if output.is_empty() {
        return;
    }
    let x = Padded::input(g, input, 0);
    for_each_chunk(
        output,
        g.out_plane(),
        g.worth_threads(),
        |_: &mut (), (plane, output)| {
            let (b, o) = (plane / g.out_channels, plane % g.out_channels);
            output.fill(E::zero());
            // output[b, o, oy, ox] += weight[o, c, ky, kx]
            //     * x[b, c, oy*stride_h + ky*dilation_h, ox*stride_w + kx*dilation_w]
            for c in 0..g.in_channels {
                for ky in 0..g.kernel_h {
                    let weight = &weight[g.weight_at(o, c, ky, 0)..][..g.kernel_w];
                    for (oy, output) in output.chunks_exact_mut(g.out_w).enumerate() {
                        let row = oy * g.stride_h + ky * g.dilation_h;
                        let x = x.row(b * g.in_channels + c, row);
                        for (kx, &w) in weight.iter().enumerate() {
                            let x = x[kx * g.dilation_w..].iter().step_by(g.stride_w);
                            output.iter_mut().zip(x).for_each(|(y, &x)| *y += w * x);
                        }
                    }
                }
            }
        },
    );
}

/// Adds the gradient with respect to the weight into `grad_weight`: the correlation of the
/// input with the upstream gradient,
///
/// `grad_weight[o, c, ky, kx] += sum_{b, oy, ox} grad_output[b, o, oy, ox]
///     * x[b, c, oy*stride_h + ky*dilation_h, ox*stride_w + kx*dilation_w]`
///
/// (`x`: the input with its padding written out): one task per output channel `o`, which owns
/// `grad_weight[o]` (`C·KH·KW` values).
pub(super) fn grad_weight<E: Element>(
    g: &ConvGeometry,
    grad_output: &[E],
    input: &[E],
    grad_weight: &mut [E],
) {
    g.check(
        "strided::grad_weight",
        input.len(),
        grad_weight.len(),
        grad_output.len(),
    );
    if grad_weight.is_empty() || grad_output.is_empty() {
        return;
    }
    let x = Padded::input(g, input, 0);
    let xw = x.cols;
    let taps = g.kernel_h * g.kernel_w;
    for_each_chunk(
        grad_weight,
        g.taps_per_output(),
        g.worth_threads(),
        |_: &mut (), (o, grad_weight)| {
            for (i, grad_weight) in grad_weight.iter_mut().enumerate() {
                let (c, ky, kx) = (i / taps, i % taps / g.kernel_w, i % g.kernel_w);
                // One weight's gradient, kept as LANES partial sums over the whole batch:
                // floating-point addition is not associative, so a plain `sum()` adds one term
                // at a time, in order (no SIMD); independent lanes vectorise, and the order is
                // still fixed, so results are deterministic.
                let mut sum = [E::zero(); LANES];
                for b in 0..g.batch {
                    let x = x.plane(b * g.in_channels + c);
                    let grad_output = &grad_output[g.output_at(b, o, 0, 0)..][..g.out_plane()];
                    for (oy, grad_output) in grad_output.chunks_exact(g.out_w).enumerate() {
                        // sum += sum_ox grad_output[b, o, oy, ox]
                        //     * x[b, c, oy*stride_h + ky*dilation_h, ox*stride_w + kx*dilation_w]
                        let row = oy * g.stride_h + ky * g.dilation_h;
                        let x = x[row * xw + kx * g.dilation_w..].iter().step_by(g.stride_w);
                        for (j, (&gy, &x)) in grad_output.iter().zip(x).enumerate() {
                            sum[j % LANES] += gy * x;
                        }
                    }
                }
                *grad_weight += sum.into_iter().sum::<E>();
            }
        },
    );
}

/// Lanes of the partial sums in [`grad_weight`].
const LANES: usize = 8;

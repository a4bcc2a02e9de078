//! Direct convolution: the formula's loops, reordered so the innermost loop runs along
//! contiguous memory, and split across threads by output slices that no two threads share.
//!
//! Meant for few channels and small kernels (the first layers of a CNN, conv1d), where
//! [`unroll`](super::unroll) spends much of its time building a matrix; it needs no scratch
//! matrix. Same contract as [`naive`](super::naive): `forward` overwrites, the gradients add.
//!
//! Stride 1 along both axes (and the gradient of the input at any stride, itself a stride-1
//! correlation) runs the register-blocked kernels of `blocked.rs`: a block of results stays in
//! vector registers while every channel and tap is added into it. A stride above 1 along
//! either axis runs the plain loops below, where:
//! 1. the zero padding is written out once per call (`Padded`), so every kernel tap of every
//!    output reads inside a buffer and no loop tests a position against the edges;
//! 2. the innermost loops run over slices that cannot alias, so LLVM emits SIMD code with no
//!    bounds checks; sums keep `LANES` independent partial sums so that they vectorise too;
//! 3. each rayon task owns one plane of the result (`par_chunks_mut`), which stays in cache
//!    while every channel and tap is added into it, and needs no locks.

use super::blocked;
use super::padded::{for_each_chunk, Padded};
use super::ConvGeometry;
use crate::tensor::Element;

/// Overwrites `output` with the convolution of `input` and `weight` (formula in
/// [`ConvGeometry`]). Stride 1 along both axes: `blocked.rs`; else one task per `(b, o)` output
/// plane.
pub fn forward<E: Element>(g: &ConvGeometry, input: &[E], weight: &[E], output: &mut [E]) {
    g.check("direct::forward", input.len(), weight.len(), output.len());
    if output.is_empty() {
        return;
    }
    if g.unit_stride() {
        return blocked::forward(g, input, weight, output);
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

/// Adds the gradient with respect to the input into `grad_input`.
///
/// The gradient is the convolution of the upstream gradient with the kernel reversed,
/// `flipped[o, c, ky, kx] = weight[o, c, KH-1-ky, KW-1-kx]`, anchored at the other end:
///
/// `grad_input[b, c, iy, ix] += sum_{o, ky, kx} flipped[o, c, ky, kx]
///     * gy[b, o, iy + pad_top + ky*dilation_h, ix + pad_left + kx*dilation_w]`
///
/// where `gy` is `grad_output` with `(KH-1)*dilation_h` zero rows above and `(KW-1)*dilation_w`
/// zero columns left of it (and, for a stride above 1, `stride_h-1` zero rows between its rows
/// and `stride_w-1` zero columns between its columns: the positions no output read from). That
/// is a stride-1 correlation whatever the forward stride, computed by `blocked.rs`. In the
/// teaching convention the forward pass pads the right by `K-1`, so its gradient pads the left
/// by `K-1`. For a stride above 1 most of the products are with those zeros (3 in 4 for stride
/// 2 along both axes): simple and exact, but [`unroll`](super::unroll) is the faster path
/// there.
pub fn grad_input<E: Element>(
    g: &ConvGeometry,
    grad_output: &[E],
    weight: &[E],
    grad_input: &mut [E],
) {
    g.check(
        "direct::grad_input",
        grad_input.len(),
        weight.len(),
        grad_output.len(),
    );
    blocked::grad_input(g, grad_output, weight, grad_input);
}

/// Adds the gradient with respect to the weight into `grad_weight`: the correlation of the
/// input with the upstream gradient,
///
/// `grad_weight[o, c, ky, kx] += sum_{b, oy, ox} grad_output[b, o, oy, ox]
///     * x[b, c, oy*stride_h + ky*dilation_h, ox*stride_w + kx*dilation_w]`
///
/// (`x`: the input with its padding written out). Stride 1 along both axes: `blocked.rs`; else
/// one task per output channel `o`, which owns `grad_weight[o]` (`C·KH·KW` values).
pub fn grad_weight<E: Element>(
    g: &ConvGeometry,
    grad_output: &[E],
    input: &[E],
    grad_weight: &mut [E],
) {
    g.check(
        "direct::grad_weight",
        input.len(),
        grad_weight.len(),
        grad_output.len(),
    );
    if grad_weight.is_empty() || grad_output.is_empty() {
        return;
    }
    if g.unit_stride() {
        return blocked::grad_weight(g, grad_output, input, grad_weight);
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

//! The direct kernels' entry points: the forward pass, the input's gradient and the weight's
//! gradient of a stride-1 convolution (stride 1 along both axes; the input's gradient at any
//! stride, itself a stride-1 correlation), each run as its [`Blocked`] plan says: the padded
//! operands laid out wide or compact (`layout.rs`), then the register-blocked micro-kernels
//! (`micro.rs`), parallel over batch entries.
//!
//! Meant for few channels and small kernels (the first layers of a CNN, conv1d), where
//! [`im2col`](super::im2col) spends much of its time building a matrix; they need no scratch
//! matrix. Same contract as [`naive`](super::naive): `forward` overwrites, the gradients add.
//!
//! The input's gradient is the convolution of the upstream gradient with the kernel reversed,
//! `flipped[o, c, ky, kx] = weight[o, c, KH-1-ky, KW-1-kx]`, anchored at the other end:
//!
//! `grad_input[b, c, iy, ix] += sum_{o, ky, kx} flipped[o, c, ky, kx]
//!     * gy[b, o, iy + pad_top + ky*dilation_h, ix + pad_left + kx*dilation_w]`
//!
//! where `gy` is `grad_output` with `(KH-1)*dilation_h` zero rows above and `(KW-1)*dilation_w`
//! zero columns left of it (and, for a stride above 1, `stride_h-1` zero rows between its rows
//! and `stride_w-1` zero columns between its columns: the positions no output read from). In the
//! teaching convention the forward pass pads the right by `K-1`, so its gradient pads the left
//! by `K-1`. For a stride above 1 most of the products are with those zeros (3 in 4 for stride
//! 2 along both axes): simple and exact, but [`im2col`](super::im2col) is the faster path
//! there.

use super::layout::{copy_rows, Layout, Padded};
use super::micro::{
    channel_block_width, correlate, correlate_weights, correlate_weights_by_channel, Avx2Kernels,
    Blocking, ChannelOperands, PackedWeights, Planes, WeightOperands,
};
use super::plan::Blocked;
use super::ConvGeometry;
use crate::memory::Buffer;
use crate::ops::parallel::{add_per_thread_sums, for_each_chunk};
use crate::tensor::Element;

/// Overwrites `output` with the convolution (stride 1 along both axes): per batch entry,
/// [`correlate`] over the padded input's planes, each output row then copied out of its plane
/// of results.
pub(super) fn forward<E: Element + Avx2Kernels>(
    g: &ConvGeometry,
    kernel: &Blocked,
    input: &[E],
    weight: &[E],
    output: &mut [E],
) {
    g.check("direct::forward", input.len(), weight.len(), output.len());
    assert!(g.unit_stride(), "direct::forward: stride 1 only");
    if output.is_empty() {
        return;
    }
    let x = Padded::input(g, input, 0);
    let layout = kernel.layout;
    let row = layout.row(x.cols, g.out_w);
    let c = g.in_channels;
    let size = [g.kernel_h, g.kernel_w];
    let block = planes_per_block(kernel);
    let weights = PackedWeights::new(block, g.out_channels, c, size, |o, c, ky, kx| {
        weight[g.weight_at(o, c, ky, kx)]
    });
    let per_entry = g.out_channels * g.out_plane();
    let parallel = g.worth_threads();
    for_each_chunk(
        output,
        per_entry,
        parallel,
        |(scratch, sums), (b, output)| {
            let out = [g.out_h, g.out_w];
            let planes = layout.planes(g, &x, [b * c, c], [0, 0], out, scratch);
            // y[oy*row + ox] = sum_{c, ky, kx} weight[o, c, ky, kx]
            //     * x[b, c][(oy + ky*dilation_h, ox + kx*dilation_w)]
            correlate(&planes, &weights, kernel, sums, |o, y| {
                // output[b, o, oy, ox] = y[oy*row + ox]
                let output = &mut output[o * g.out_plane()..][..g.out_plane()];
                copy_rows(output, y, row, g.out_h, g.out_w);
            });
        },
    );
}

/// Adds the gradient with respect to the input (any stride): the upstream gradient, spread by
/// the stride and padded by the kernel's reach, correlated with the reversed kernel (see the
/// module's doc), input channels in the role of output planes.
pub(super) fn grad_input<E: Element + Avx2Kernels>(
    g: &ConvGeometry,
    kernel: &Blocked,
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
    if grad_input.is_empty() || grad_output.is_empty() {
        return;
    }
    let gy = Padded::grad_output(g, grad_output, 0);
    let layout = kernel.layout;
    let row = layout.row(gy.cols, g.in_w);
    let (o, kh, kw) = (g.out_channels, g.kernel_h, g.kernel_w);
    let block = planes_per_block(kernel);
    // flipped[o, c, ky, kx] = weight[o, c, KH-1-ky, KW-1-kx], with c as the output plane
    let weights = PackedWeights::new(block, g.in_channels, o, [kh, kw], |c, o, ky, kx| {
        weight[g.weight_at(o, c, kh - 1 - ky, kw - 1 - kx)]
    });
    let per_entry = g.in_channels * g.in_plane();
    let parallel = g.worth_threads();
    for_each_chunk(
        grad_input,
        per_entry,
        parallel,
        |(scratch, sums): &mut (Vec<E>, Vec<E>), (b, grad_input)| {
            // gy's element (pad_top, pad_left) lines up with input (0, 0)
            let corner = [g.pad_top, g.pad_left];
            let size = [g.in_h, g.in_w];
            let planes = layout.planes(g, &gy, [b * o, o], corner, size, scratch);
            // dx[iy*row + ix] = sum_{o, ky, kx} flipped[o, c, ky, kx]
            //     * gy[b, o][(iy + pad_top + ky*dilation_h, ix + pad_left + kx*dilation_w)]
            correlate(&planes, &weights, kernel, sums, |c, dx| {
                // grad_input[b, c, iy, ix] += dx[iy*row + ix]
                let grad_input = &mut grad_input[c * g.in_plane()..][..g.in_plane()];
                for (iy, grad_input) in grad_input.chunks_exact_mut(g.in_w).enumerate() {
                    let dx = &dx[iy * row..][..g.in_w];
                    grad_input.iter_mut().zip(dx).for_each(|(d, &s)| *d += s);
                }
            });
        },
    );
}

/// Adds the gradient with respect to the weight (stride 1 along both axes):
/// `grad_weight[o, c, ky, kx] += sum_{b, oy, ox} grad_output[b, o, oy, ox]
///     * x[b, c][(oy + ky*dilation_h, ox + kx*dilation_w)]`
/// through [`correlate_weights`] (vectorised over positions) or
/// [`correlate_weights_by_channel`] (over output channels), as the plan's blocking says, on the
/// same layouts as the forward pass (wide: the upstream gradient widened with zeros to the
/// padded input's rows). Split by batch: each task sums its entries into its own buffer, and
/// the buffers are added at the end.
pub(super) fn grad_weight<E: Element + Avx2Kernels>(
    g: &ConvGeometry,
    kernel: &Blocked,
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
    assert!(g.unit_stride(), "direct::grad_weight: stride 1 only");
    if grad_weight.is_empty() || grad_output.is_empty() {
        return;
    }
    let x = Padded::input(g, input, 0);
    let layout = kernel.layout;
    let row = layout.row(x.cols, g.out_w);
    // the upstream gradient with rows `row` long, zeros past each row's end
    let size = [g.out_h, g.out_w];
    let gy = Padded::new(grad_output, size, [0, 0], [1, 1], [g.out_h, row], 0);
    let (c, o, kw) = (g.in_channels, g.out_channels, g.kernel_w);
    let taps = g.kernel_h * kw;
    // by channel, the kernel reads the upstream gradient transposed, in blocks of `width`
    // channels
    let (by_channel, width) = match kernel.blocking {
        Blocking::ByChannel { vectors, .. } => (true, channel_block_width(kernel.isa, vectors)),
        _ => (false, 0),
    };
    let n = Layout::positions(row, size);
    let transposed_per_entry = if by_channel {
        o.div_ceil(width) * n * width
    } else {
        0
    };
    // Batch entries per group: what the kernels read again for every block of taps (a compact
    // layout's copies of the group's inputs, the transposed upstream gradient) stays in the L2
    // cache, some 512 KB.
    let per_entry = transposed_per_entry
        + match layout {
            Layout::Wide => 0,
            Layout::Compact => c * kw * (g.out_h + (g.kernel_h - 1) * g.dilation_h) * g.out_w,
        };
    let group = ((128 << 10) / per_entry.max(1)).clamp(1, 64);
    // Adds the gradient from `entries` into `grad_weight`, a group at a time.
    let run = |entries: std::ops::Range<usize>, grad_weight: &mut [E]| {
        let mut scratch: Vec<Vec<E>> = (0..group).map(|_| Vec::new()).collect();
        // (the lanes past the last channel are never written: their sums are dropped)
        let mut transposed = Buffer::<E>::zeroed(transposed_per_entry * group);
        for first in entries.clone().step_by(group) {
            let last = (first + group).min(entries.end);
            let planes: Vec<Planes<'_, E>> = (first..last)
                .zip(scratch.iter_mut())
                .map(|(b, scratch)| layout.planes(g, &x, [b * c, c], [0, 0], size, scratch))
                .collect();
            let operands: Vec<WeightOperands<'_, E>> = (first..last)
                .zip(&planes)
                .map(|(b, planes)| WeightOperands {
                    grad_out: (b * o..(b + 1) * o).map(|plane| gy.plane(plane)).collect(),
                    x: (0..c * taps)
                        .map(|t| {
                            let (c, ky, kx) = (t / taps, t % taps / kw, t % kw);
                            let shift = ky * planes.row_step + kx * planes.col_step;
                            &planes.src[c * planes.plane + shift..]
                        })
                        .collect(),
                })
                .collect();
            debug_assert_eq!(n, planes[0].n);
            if by_channel {
                // the upstream gradient transposed: g[ob][p][lane] = gy[b, ob*W + lane][p]
                let chunks = transposed.chunks_exact_mut(transposed_per_entry);
                for (b, t) in (first..last).zip(chunks) {
                    for (ob, t) in t.chunks_exact_mut(n * width).enumerate() {
                        for (lane, plane) in (ob * width..((ob + 1) * width).min(o)).enumerate() {
                            let gy = &gy.plane(b * o + plane)[..n];
                            for (t, &v) in t[lane..].iter_mut().step_by(width).zip(gy) {
                                *t = v;
                            }
                        }
                    }
                }
                let operands: Vec<ChannelOperands<'_, E>> = operands
                    .into_iter()
                    .zip(transposed.chunks_exact(transposed_per_entry))
                    .map(|(e, t)| ChannelOperands {
                        grad_out_t: t,
                        x: e.x,
                    })
                    .collect();
                correlate_weights_by_channel(&operands, n, o, grad_weight, kernel);
            } else {
                correlate_weights(&operands, n, grad_weight, kernel);
            }
        }
    };
    if g.worth_threads() {
        add_per_thread_sums(g.batch, grad_weight, run);
    } else {
        run(0..g.batch, grad_weight);
    }
}

/// The output planes per block of a [`Blocking::Planes`] plan (what its weights are packed
/// in).
fn planes_per_block(kernel: &Blocked) -> usize {
    match kernel.blocking {
        Blocking::Planes { planes, .. } => planes,
        blocking => panic!("the direct kernels' forward pass planned with {blocking:?}"),
    }
}

//! Depthwise convolution (`groups == in_channels`): each output channel reads one input
//! channel, so a pass is a few multiply-adds per element it touches and its speed is set by
//! memory, not arithmetic. No im2col (it would copy every input element `KH·KW` times to do
//! one multiply-add with each) and no channel blocking: direct loops over one plane at a time.
//!
//! With `M = out_channels / in_channels` filters per input channel (PyTorch's "depth
//! multiplier"), weight `[O, 1, KH, KW]`, output channel `o` reads input channel `o / M`:
//!
//! `output[b, o, oy, ox] = sum_{ky, kx} weight[o, 0, ky, kx]
//!     * input[b, o / M, oy*stride_h + ky*dilation_h - pad_top, ox*stride_w + kx*dilation_w - pad_left]`
//!
//! How the loops are laid out, and why:
//! 1. the padding is never written out: per kernel tap, [`TapSpan`]s give the output rows and
//!    columns that read inside the input, computed once per call, so no position is tested
//!    against the edges and no padded copy is made (a copy would double the memory traffic);
//! 2. the innermost loop runs along one output row and one input row; at stride 1 both are
//!    contiguous slices of one length zipped together, which LLVM vectorises with no bounds
//!    checks, and the weight's sums keep 8 partial sums ([`dot`]) so that they vectorise too
//!    (other strides step through the input row);
//! 3. each rayon task owns one plane of its result (`for_each_chunk`): forward the `(b, o)`
//!    output plane, grad-input the `(b, c)` input plane (all `M` filters of channel `c` add
//!    into it), grad-weight one output channel's `KH·KW` taps (summed over the batch).
//!
//! Same contract as [`naive`](super::naive): `forward` overwrites, the gradients add. The
//! geometry is the whole convolution's ([`ConvGeometry`] with `in_channels = C`,
//! `out_channels = O`); its weight is `[O, 1, KH, KW]`, not `ConvGeometry::weight_len`'s.

use super::geometry::TapSpan;
use super::ConvGeometry;
use crate::ops::parallel::for_each_chunk;
use crate::tensor::Element;

/// Below this many multiply-adds a pass stays on the caller's thread (handing work to rayon
/// costs 10-40 µs; a depthwise pass does about one multiply-add per nanosecond per core on
/// planes that stay in cache).
pub(super) const THREADS_FROM: usize = 1 << 18;

/// The sizes a depthwise pass reads, checked once.
struct Depthwise<'g> {
    g: &'g ConvGeometry,
    /// `M`: output channels per input channel.
    multiplier: usize,
    /// `KH·KW`: one output channel's weights.
    taps: usize,
    rows: Vec<TapSpan>,
    cols: Vec<TapSpan>,
}

impl<'g> Depthwise<'g> {
    fn new(kernel: &str, g: &'g ConvGeometry, input: usize, weight: usize, output: usize) -> Self {
        let taps = g.kernel_h * g.kernel_w;
        assert!(
            g.in_channels > 0 && g.out_channels.is_multiple_of(g.in_channels),
            "{kernel}: {} output channels are not a multiple of {} input channels",
            g.out_channels,
            g.in_channels
        );
        let one = ConvGeometry {
            in_channels: 1,
            out_channels: 1,
            batch: 1,
            ..*g
        };
        one.check(kernel, one.input_len(), one.weight_len(), one.output_len());
        for (what, expected, found) in [
            ("input", g.input_len(), input),
            ("weight", g.out_channels * taps, weight),
            ("output", g.output_len(), output),
        ] {
            assert_eq!(
                expected, found,
                "{kernel}: {what} needs {expected} elements for {g:?}, found {found}"
            );
        }
        Depthwise {
            g,
            multiplier: g.out_channels / g.in_channels,
            taps,
            rows: g.row_spans(),
            cols: g.col_spans(),
        }
    }

    /// Whether the pass is worth rayon's threads.
    fn parallel(&self) -> bool {
        rayon::current_num_threads() > 1
            && self.g.output_len().saturating_mul(self.taps) >= THREADS_FROM
    }
}

/// Overwrites `output` with the depthwise convolution of `input` and `weight`: one task per
/// `(b, o)` output plane.
pub(super) fn forward<E: Element>(g: &ConvGeometry, input: &[E], weight: &[E], output: &mut [E]) {
    let d = Depthwise::new(
        "depthwise::forward",
        g,
        input.len(),
        weight.len(),
        output.len(),
    );
    let (in_plane, out_w) = (g.in_plane(), g.out_w);
    for_each_chunk(
        output,
        g.out_plane().max(1),
        d.parallel(),
        |_: &mut (), (plane, output)| {
            let (b, o) = (plane / g.out_channels, plane % g.out_channels);
            let c = o / d.multiplier;
            let x = &input[(b * g.in_channels + c) * in_plane..][..in_plane];
            let w = &weight[o * d.taps..][..d.taps];
            output.fill(E::zero());
            // output[oy, ox] += w[ky, kx] * x[oy*sh + ky*dh - pt, ox*sw + kx*dw - pl]
            for (ky, rows) in d.rows.iter().enumerate() {
                for oy in rows.outputs.clone() {
                    let iy = rows.input(oy, g.stride_h);
                    let x_row = &x[iy * g.in_w..][..g.in_w];
                    let y_row = &mut output[oy * out_w..][..out_w];
                    for (kx, cols) in d.cols.iter().enumerate() {
                        let w = w[ky * g.kernel_w + kx];
                        let y = &mut y_row[cols.outputs.clone()];
                        if g.stride_w == 1 {
                            // two slices of one length: no bounds checks, vectorised
                            let x = &x_row[cols.first_input..][..y.len()];
                            y.iter_mut().zip(x).for_each(|(y, &x)| *y += w * x);
                        } else {
                            let x = x_row[cols.first_input..].iter().step_by(g.stride_w);
                            y.iter_mut().zip(x).for_each(|(y, &x)| *y += w * x);
                        }
                    }
                }
            }
        },
    );
}

/// Adds the gradient with respect to the input into `grad_input`: every output position sends
/// `grad_output * weight` back to the input element it read,
///
/// `grad_input[b, c, iy, ix] += sum_{m, ky, kx} grad_output[b, c*M + m, oy, ox]
///     * weight[c*M + m, 0, ky, kx]` (`iy`, `ix` as read in the forward pass):
///
/// one task per `(b, c)` input plane, which only its own `M` output channels reach.
pub(super) fn grad_input<E: Element>(
    g: &ConvGeometry,
    grad_output: &[E],
    weight: &[E],
    grad_input: &mut [E],
) {
    let d = Depthwise::new(
        "depthwise::grad_input",
        g,
        grad_input.len(),
        weight.len(),
        grad_output.len(),
    );
    let (out_plane, out_w) = (g.out_plane(), g.out_w);
    for_each_chunk(
        grad_input,
        g.in_plane().max(1),
        d.parallel(),
        |_: &mut (), (plane, grad_x)| {
            let (b, c) = (plane / g.in_channels, plane % g.in_channels);
            for o in c * d.multiplier..(c + 1) * d.multiplier {
                let gy = &grad_output[(b * g.out_channels + o) * out_plane..][..out_plane];
                let w = &weight[o * d.taps..][..d.taps];
                for (ky, rows) in d.rows.iter().enumerate() {
                    for oy in rows.outputs.clone() {
                        let iy = rows.input(oy, g.stride_h);
                        let gy_row = &gy[oy * out_w..][..out_w];
                        let gx_row = &mut grad_x[iy * g.in_w..][..g.in_w];
                        for (kx, cols) in d.cols.iter().enumerate() {
                            let w = w[ky * g.kernel_w + kx];
                            let gy = &gy_row[cols.outputs.clone()];
                            let gx = &mut gx_row[cols.first_input..];
                            if g.stride_w == 1 {
                                let gx = &mut gx[..gy.len()];
                                gx.iter_mut().zip(gy).for_each(|(gx, &gy)| *gx += w * gy);
                            } else {
                                let gx = gx.iter_mut().step_by(g.stride_w);
                                gx.zip(gy).for_each(|(gx, &gy)| *gx += w * gy);
                            }
                        }
                    }
                }
            }
        },
    );
}

/// Adds the gradient with respect to the weight into `grad_weight`: each tap's products summed
/// over the batch and the output plane,
///
/// `grad_weight[o, 0, ky, kx] += sum_{b, oy, ox} grad_output[b, o, oy, ox]
///     * input[b, o / M, iy, ix]`:
///
/// one task per output channel `o`, which owns its `KH·KW` weights.
pub(super) fn grad_weight<E: Element>(
    g: &ConvGeometry,
    grad_output: &[E],
    input: &[E],
    grad_weight: &mut [E],
) {
    let d = Depthwise::new(
        "depthwise::grad_weight",
        g,
        input.len(),
        grad_weight.len(),
        grad_output.len(),
    );
    let (in_plane, out_plane, out_w) = (g.in_plane(), g.out_plane(), g.out_w);
    for_each_chunk(
        grad_weight,
        d.taps.max(1),
        d.parallel(),
        |_: &mut (), (o, grad_w)| {
            let c = o / d.multiplier;
            for b in 0..g.batch {
                let gy = &grad_output[(b * g.out_channels + o) * out_plane..][..out_plane];
                let x = &input[(b * g.in_channels + c) * in_plane..][..in_plane];
                for (ky, rows) in d.rows.iter().enumerate() {
                    for (kx, cols) in d.cols.iter().enumerate() {
                        let mut sum = E::zero();
                        for oy in rows.outputs.clone() {
                            let iy = rows.input(oy, g.stride_h);
                            let gy = &gy[oy * out_w..][cols.outputs.clone()];
                            let x = &x[iy * g.in_w + cols.first_input..];
                            sum += if g.stride_w == 1 {
                                dot(gy, &x[..gy.len()])
                            } else {
                                let x = x.iter().step_by(g.stride_w);
                                gy.iter().zip(x).map(|(&gy, &x)| gy * x).sum::<E>()
                            };
                        }
                        grad_w[ky * g.kernel_w + kx] += sum;
                    }
                }
            }
        },
    );
}

/// `sum_i a[i] * b[i]` over two slices of one length, in `LANES` independent partial sums:
/// floating-point addition is not associative, so LLVM keeps one running sum in order (no
/// SIMD) unless the code itself splits it.
fn dot<E: Element>(a: &[E], b: &[E]) -> E {
    const LANES: usize = 8;
    let mut sums = [E::zero(); LANES];
    let (a_blocks, b_blocks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: E = a_blocks
        .remainder()
        .iter()
        .zip(b_blocks.remainder())
        .map(|(&a, &b)| a * b)
        .sum();
    for (a, b) in a_blocks.zip(b_blocks) {
        for lane in 0..LANES {
            sums[lane] += a[lane] * b[lane];
        }
    }
    sums.iter().copied().sum::<E>() + tail
}

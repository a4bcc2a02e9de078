//! Convolution as the lecture's *unroll* (im2col) followed by one matrix multiply per batch
//! entry.
//!
//! Unrolling copies, for batch entry `b`, every input element each kernel tap reads into a
//! `(C·KH·KW) x (OH·OW)` matrix, zero where the tap reads padding:
//!
//! `unrolled[(c, ky, kx), (oy, ox)] = input[b, c, oy*stride + ky*dilation - pad_top,
//!     ox*stride + kx*dilation - pad_left]`
//!
//! Then the forward pass is `weight (O, C·KH·KW) x unrolled (C·KH·KW, OH·OW)`, and both
//! gradients are matrix multiplies too. The copy costs `KH·KW` times the input, but the
//! multiply runs in a blocked, vectorised GEMM ([`matmul_into`]), which wins when there are
//! many channels. Same contract as [`naive`](super::naive): `forward` overwrites, the gradients
//! add.
//!
//! Work is split across threads by batch entry (each with its own unrolled matrix, and each
//! matrix multiply single-threaded) when there are at least as many entries as threads: whole
//! independent multiplies need no synchronisation, and each thread's matrix stays in its own
//! cache. With fewer entries than threads the multiply itself is split instead.

use rayon::prelude::*;

use super::geometry::TapSpan;
use super::ConvGeometry;
use crate::tensor::{matmul_into, Element, MatRef};

/// Overwrites `output` with the convolution of `input` and `weight` (formula in
/// [`ConvGeometry`]).
pub fn forward<E: Element>(g: &ConvGeometry, input: &[E], weight: &[E], output: &mut [E]) {
    g.check("unroll::forward", input.len(), weight.len(), output.len());
    if output.is_empty() {
        return;
    }
    let spans = Spans::new(g);
    // The unrolled matrix is rows x cols = (C*KH*KW) x (OH*OW).
    let (rows, cols) = (g.taps_per_output(), g.out_plane());
    let entry = |b: usize, unrolled: &mut Vec<E>, output: &mut [E], single_thread: bool| {
        let input = &input[g.input_at(b, 0, 0, 0)..][..g.in_channels * g.in_plane()];
        unroll_into(g, &spans, input, unrolled);
        // output[b] = weight x unrolled
        // (O, C*KH*KW) x (C*KH*KW, OH*OW) -> (O, OH*OW)
        let (weight, unrolled) = (
            MatRef::row_major(weight, rows),
            MatRef::row_major(unrolled, cols),
        );
        matmul_into(
            g.out_channels,
            rows,
            cols,
            weight,
            unrolled,
            output,
            false,
            single_thread,
        );
    };
    let per_entry = g.out_channels * cols;
    if split_by_batch(g) {
        output
            .par_chunks_mut(per_entry)
            .enumerate()
            .with_min_len(entries_per_thread(g))
            .for_each_init(Vec::new, |unrolled, (b, output)| {
                entry(b, unrolled, output, true)
            });
    } else {
        let mut unrolled = Vec::new();
        for (b, output) in output.chunks_mut(per_entry).enumerate() {
            entry(b, &mut unrolled, output, false);
        }
    }
}

/// Adds the gradient with respect to the input into `grad_input`: per batch entry, the
/// gradient of the unrolled matrix is `weightᵀ x grad_output[b]`, and folding it back (the
/// reverse of unrolling, col2im) adds each of its elements into the input element it was
/// copied from.
pub fn grad_input<E: Element>(
    g: &ConvGeometry,
    grad_output: &[E],
    weight: &[E],
    grad_input: &mut [E],
) {
    g.check(
        "unroll::grad_input",
        grad_input.len(),
        weight.len(),
        grad_output.len(),
    );
    if grad_input.is_empty() || grad_output.is_empty() {
        return;
    }
    let spans = Spans::new(g);
    // The unrolled matrix is rows x cols = (C*KH*KW) x (OH*OW).
    let (rows, cols) = (g.taps_per_output(), g.out_plane());
    let entry =
        |b: usize, grad_unrolled: &mut Vec<E>, grad_input: &mut [E], single_thread: bool| {
            let grad_output = &grad_output[g.output_at(b, 0, 0, 0)..][..g.out_channels * cols];
            grad_unrolled.resize(rows * cols, E::zero());
            // grad_unrolled = weightᵀ x grad_output[b]
            // (C*KH*KW, O) x (O, OH*OW) -> (C*KH*KW, OH*OW)
            let weight_t = MatRef::transposed(weight, rows);
            let grad_output = MatRef::row_major(grad_output, cols);
            let (o, out) = (g.out_channels, grad_unrolled.as_mut_slice());
            matmul_into(
                rows,
                o,
                cols,
                weight_t,
                grad_output,
                out,
                false,
                single_thread,
            );
            fold_into(g, &spans, grad_unrolled, grad_input);
        };
    let per_entry = g.in_channels * g.in_plane();
    if split_by_batch(g) {
        grad_input
            .par_chunks_mut(per_entry)
            .enumerate()
            .with_min_len(entries_per_thread(g))
            .for_each_init(Vec::new, |scratch, (b, grad_input)| {
                entry(b, scratch, grad_input, true)
            });
    } else {
        let mut scratch = Vec::new();
        for (b, grad_input) in grad_input.chunks_mut(per_entry).enumerate() {
            entry(b, &mut scratch, grad_input, false);
        }
    }
}

/// Adds the gradient with respect to the weight into `grad_weight`:
/// `grad_weight += sum_b grad_output[b] x unrolled[b]ᵀ`. Split by batch, each thread sums its
/// entries into its own `(O, C·KH·KW)` buffer, and the buffers are added at the end.
pub fn grad_weight<E: Element>(
    g: &ConvGeometry,
    grad_output: &[E],
    input: &[E],
    grad_weight: &mut [E],
) {
    g.check(
        "unroll::grad_weight",
        input.len(),
        grad_weight.len(),
        grad_output.len(),
    );
    if grad_weight.is_empty() || grad_output.is_empty() {
        return;
    }
    let spans = Spans::new(g);
    // The unrolled matrix is rows x cols = (C*KH*KW) x (OH*OW).
    let (rows, cols) = (g.taps_per_output(), g.out_plane());
    // Adds grad_output[b] x unrolled[b]ᵀ into `grad_weight`.
    let entry = |b: usize, unrolled: &mut Vec<E>, grad_weight: &mut [E], single_thread: bool| {
        let input = &input[g.input_at(b, 0, 0, 0)..][..g.in_channels * g.in_plane()];
        let grad_output = &grad_output[g.output_at(b, 0, 0, 0)..][..g.out_channels * cols];
        unroll_into(g, &spans, input, unrolled);
        // (O, OH*OW) x (OH*OW, C*KH*KW) -> (O, C*KH*KW), added
        let grad_output = MatRef::row_major(grad_output, cols);
        let unrolled_t = MatRef::transposed(unrolled, cols);
        let o = g.out_channels;
        matmul_into(
            o,
            cols,
            rows,
            grad_output,
            unrolled_t,
            grad_weight,
            true,
            single_thread,
        );
    };
    if split_by_batch(g) {
        let zeros = || vec![E::zero(); grad_weight.len()];
        let sum = (0..g.batch)
            .into_par_iter()
            .with_min_len(entries_per_thread(g))
            .fold(
                || (zeros(), Vec::new()),
                |(mut sum, mut unrolled), b| {
                    entry(b, &mut unrolled, &mut sum, true);
                    (sum, unrolled)
                },
            )
            .map(|(sum, _)| sum)
            .reduce(zeros, |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(a, &b)| *a += b);
                a
            });
        grad_weight.iter_mut().zip(&sum).for_each(|(w, &s)| *w += s);
    } else {
        let mut unrolled = Vec::new();
        for b in 0..g.batch {
            entry(b, &mut unrolled, grad_weight, false);
        }
    }
}

/// Split by batch entry when every thread gets at least one and the work pays for the threads.
fn split_by_batch(g: &ConvGeometry) -> bool {
    g.batch >= rayon::current_num_threads() && g.worth_threads()
}

/// Batch entries per rayon task: one task per thread, so each allocates its scratch matrix
/// (up to megabytes) once.
fn entries_per_thread(g: &ConvGeometry) -> usize {
    g.batch.div_ceil(rayon::current_num_threads())
}

/// The tap spans of a geometry, computed once per call.
struct Spans {
    rows: Vec<TapSpan>,
    cols: Vec<TapSpan>,
}

impl Spans {
    fn new(g: &ConvGeometry) -> Self {
        Spans {
            rows: g.row_spans(),
            cols: g.col_spans(),
        }
    }
}

/// Unrolls one batch entry (`input` is `[C, H, W]`) into `unrolled`, resized to
/// `(C·KH·KW) x (OH·OW)`:
///
/// `unrolled[(c*KH + ky)*KW + kx, oy*OW + ox] =
///     input[c, oy*stride + ky*dilation - pad_top, ox*stride + kx*dilation - pad_left]`,
/// zero in the padding. Each output row is one slice copy (stride 1) plus the zero edges.
fn unroll_into<E: Element>(g: &ConvGeometry, spans: &Spans, input: &[E], unrolled: &mut Vec<E>) {
    let (len, taps) = (g.out_plane(), g.kernel_h * g.kernel_w);
    unrolled.resize(g.taps_per_output() * len, E::zero());
    for (r, unrolled) in unrolled.chunks_exact_mut(len).enumerate() {
        let (c, ky, kx) = (r / taps, r % taps / g.kernel_w, r % g.kernel_w);
        let (row, col) = (&spans.rows[ky], &spans.cols[kx]);
        let input = &input[c * g.in_plane()..][..g.in_plane()];
        for (oy, unrolled) in unrolled.chunks_exact_mut(g.out_w).enumerate() {
            if !row.outputs.contains(&oy) {
                unrolled.fill(E::zero());
                continue;
            }
            let input = &input[row.input(oy, g.stride) * g.in_w..][..g.in_w];
            let input = &input[col.first_input..];
            unrolled[..col.outputs.start].fill(E::zero());
            unrolled[col.outputs.end..].fill(E::zero());
            let unrolled = &mut unrolled[col.outputs.clone()];
            if g.stride == 1 {
                unrolled.copy_from_slice(&input[..unrolled.len()]);
            } else {
                for (u, &x) in unrolled.iter_mut().zip(input.iter().step_by(g.stride)) {
                    *u = x;
                }
            }
        }
    }
}

/// Folds (col2im, the reverse of [`unroll_into`]) the gradient of one unrolled matrix back onto
/// its batch entry's input gradient (`[C, H, W]`), adding each element where it was copied from:
///
/// `grad_input[c, oy*stride + ky*dilation - pad_top, ox*stride + kx*dilation - pad_left]
///     += grad_unrolled[(c*KH + ky)*KW + kx, oy*OW + ox]`, skipping the padding.
fn fold_into<E: Element>(
    g: &ConvGeometry,
    spans: &Spans,
    grad_unrolled: &[E],
    grad_input: &mut [E],
) {
    let (len, taps) = (g.out_plane(), g.kernel_h * g.kernel_w);
    for (r, grad_unrolled) in grad_unrolled.chunks_exact(len).enumerate() {
        let (c, ky, kx) = (r / taps, r % taps / g.kernel_w, r % g.kernel_w);
        let (row, col) = (&spans.rows[ky], &spans.cols[kx]);
        let grad_input = &mut grad_input[c * g.in_plane()..][..g.in_plane()];
        for oy in row.outputs.clone() {
            let grad_input = &mut grad_input[row.input(oy, g.stride) * g.in_w..][..g.in_w];
            let grad_input = &mut grad_input[col.first_input..];
            let grad_unrolled = &grad_unrolled[oy * g.out_w..][col.outputs.clone()];
            if g.stride == 1 {
                // a contiguous add of two slices: vectorised
                for (gi, &gu) in grad_input.iter_mut().zip(grad_unrolled) {
                    *gi += gu;
                }
            } else {
                for (gi, &gu) in grad_input.iter_mut().step_by(g.stride).zip(grad_unrolled) {
                    *gi += gu;
                }
            }
        }
    }
}

//! Direct convolution: the formula's loops, reordered so the innermost loop runs along
//! contiguous memory, and split across threads by output slices that no two threads share.
//!
//! Meant for few channels and small kernels (the first layers of a CNN, conv1d), where
//! [`unroll`](super::unroll) spends much of its time building a matrix; it needs no scratch
//! matrix. Same contract as [`naive`](super::naive): `forward` overwrites, the gradients add.
//!
//! The tricks that carry the speed, each explained where it is used:
//! 1. the zero padding is written out once per call (`Padded`), so every kernel tap of every
//!    output reads inside a buffer and no loop tests a position against the edges;
//! 2. for stride 1 a whole plane is one long row (`correlate_plane`): each kernel tap is a
//!    single `y += w * x` over the plane instead of one short loop per row;
//! 3. taps are added several per pass (`add_taps`), so the result is loaded and stored once
//!    per 8 multiply-adds, not once per multiply-add;
//! 4. the innermost loops run over slices of equal, known length that cannot alias, so LLVM
//!    emits SIMD code with no bounds checks; sums keep `LANES` independent partial sums
//!    (`dot_lanes`) so that they vectorise too;
//! 5. each rayon task owns one plane of the result (`par_chunks_mut`), which stays in cache
//!    while every channel and tap is added into it, and needs no locks.

use std::array::from_fn;
use std::borrow::Cow;

use rayon::prelude::*;

use super::ConvGeometry;
use crate::tensor::Element;

/// Overwrites `output` with the convolution of `input` and `weight` (formula in
/// [`ConvGeometry`]). One task per `(b, o)` output plane.
pub fn forward<E: Element>(g: &ConvGeometry, input: &[E], weight: &[E], output: &mut [E]) {
    g.check("direct::forward", input.len(), weight.len(), output.len());
    if output.is_empty() {
        return;
    }
    let x = Padded::input(g, input);
    let (taps, xw) = (g.kernel_h * g.kernel_w, x.cols);
    for_each_chunk(
        output,
        g.out_plane(),
        g.worth_threads(),
        |wide: &mut Vec<E>, (plane, output)| {
            let (b, o) = (plane / g.out_channels, plane % g.out_channels);
            if g.stride == 1 {
                // wide[oy*XW + ox] = sum_{c, ky, kx} weight[o, c, ky, kx]
                //     * x[b, c][(oy + ky*dilation)*XW + ox + kx*dilation]
                // (x: the input with its padding written out, rows XW long; see
                // `correlate_plane`), then output[b, o, oy, ox] = wide[oy*XW + ox].
                wide.clear();
                wide.resize((g.out_h - 1) * xw + g.out_w, E::zero());
                for c in 0..g.in_channels {
                    let weight = &weight[g.weight_at(o, c, 0, 0)..][..taps];
                    correlate_plane(wide, x.plane(b * g.in_channels + c), weight, g, xw);
                }
                for (oy, output) in output.chunks_exact_mut(g.out_w).enumerate() {
                    output.copy_from_slice(&wide[oy * xw..][..g.out_w]);
                }
            } else {
                output.fill(E::zero());
                // output[b, o, oy, ox] += weight[o, c, ky, kx]
                //     * x[b, c, oy*stride + ky*dilation, ox*stride + kx*dilation]
                for c in 0..g.in_channels {
                    for ky in 0..g.kernel_h {
                        let weight = &weight[g.weight_at(o, c, ky, 0)..][..g.kernel_w];
                        for (oy, output) in output.chunks_exact_mut(g.out_w).enumerate() {
                            let x = x.row(b * g.in_channels + c, oy * g.stride + ky * g.dilation);
                            for (kx, &w) in weight.iter().enumerate() {
                                let x = x[kx * g.dilation..].iter().step_by(g.stride);
                                output.iter_mut().zip(x).for_each(|(y, &x)| *y += w * x);
                            }
                        }
                    }
                }
            }
        },
    );
}

/// Adds the gradient with respect to the input into `grad_input`. One task per `(b, c)` input
/// plane, which gathers the contributions of every output channel into its own plane.
///
/// The gradient is the convolution of the upstream gradient with the kernel reversed,
/// `flipped[o, c, ky, kx] = weight[o, c, KH-1-ky, KW-1-kx]`, anchored at the other end:
///
/// `grad_input[b, c, iy, ix] += sum_{o, ky, kx} flipped[o, c, ky, kx]
///     * gy[b, o, iy + pad_top + ky*dilation, ix + pad_left + kx*dilation]`
///
/// where `gy` is `grad_output` with `(KH-1)*dilation` zero rows above and `(KW-1)*dilation`
/// zero columns left of it (and, for stride > 1, `stride-1` zeros between its elements: the
/// positions no output read from). In the teaching convention the forward pass pads the right
/// by `K-1`, so its gradient pads the left by `K-1`. For stride > 1 most of the products are
/// with those zeros (3 in 4 for stride 2): simple and exact, but [`unroll`](super::unroll) is
/// the faster path there.
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
    if grad_input.is_empty() || grad_output.is_empty() {
        return;
    }
    let flipped = flip(g, weight);
    let gy = Padded::grad_output(g, grad_output);
    let (taps, gw) = (g.kernel_h * g.kernel_w, gy.cols);
    // gy's element (pad_top, pad_left) lines up with input (0, 0).
    let corner = g.pad_top * gw + g.pad_left;
    for_each_chunk(
        grad_input,
        g.in_plane(),
        g.worth_threads(),
        |wide: &mut Vec<E>, (plane, grad_input)| {
            let (b, c) = (plane / g.in_channels, plane % g.in_channels);
            // wide[iy*GW + ix] = sum_{o, ky, kx} flipped[o, c, ky, kx]
            //     * gy[b, o][(iy + pad_top + ky*dilation)*GW + ix + pad_left + kx*dilation]
            // (rows of gy are GW long; see `correlate_plane`), then
            // grad_input[b, c, iy, ix] += wide[iy*GW + ix].
            wide.clear();
            wide.resize((g.in_h - 1) * gw + g.in_w, E::zero());
            for o in 0..g.out_channels {
                let flipped = &flipped[g.weight_at(o, c, 0, 0)..][..taps];
                let gy = &gy.plane(b * g.out_channels + o)[corner..];
                correlate_plane(wide, gy, flipped, g, gw);
            }
            for (iy, grad_input) in grad_input.chunks_exact_mut(g.in_w).enumerate() {
                let wide = &wide[iy * gw..][..g.in_w];
                grad_input.iter_mut().zip(wide).for_each(|(d, &s)| *d += s);
            }
        },
    );
}

/// Adds the gradient with respect to the weight into `grad_weight`. One task per output
/// channel `o`, which owns `grad_weight[o]` (`C·KH·KW` values): the correlation of the input
/// with the upstream gradient,
///
/// `grad_weight[o, c, ky, kx] += sum_{b, oy, ox} grad_output[b, o, oy, ox]
///     * x[b, c, oy*stride + ky*dilation, ox*stride + kx*dilation]`
///
/// (`x`: the input with its padding written out).
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
    let x = Padded::input(g, input);
    let xw = x.cols;
    // For stride 1, grad_output with its rows widened to XW by zeros, so that a whole plane
    // lines up with x as one long row (see `correlate_plane`).
    let gy = (g.stride == 1)
        .then(|| Padded::new(grad_output, [g.out_h, g.out_w], [0, 0], 1, [g.out_h, xw]));
    let wide_len = (g.out_h - 1) * xw + g.out_w;
    let taps = g.kernel_h * g.kernel_w;
    for_each_chunk(
        grad_weight,
        g.taps_per_output(),
        g.worth_threads(),
        |_: &mut (), (o, grad_weight)| {
            for (i, grad_weight) in grad_weight.iter_mut().enumerate() {
                let (c, ky, kx) = (i / taps, i % taps / g.kernel_w, i % g.kernel_w);
                // One weight's gradient, kept as LANES partial sums in registers over the
                // whole batch (see `dot_lanes`).
                let mut sum = [E::zero(); LANES];
                for b in 0..g.batch {
                    let x = x.plane(b * g.in_channels + c);
                    if let Some(gy) = &gy {
                        // Stride 1, planes flattened (see `correlate_plane`):
                        // sum += sum_p gy[b, o][p] * x[b, c][p + (ky*XW + kx)*dilation]
                        let gy = &gy.plane(b * g.out_channels + o)[..wide_len];
                        dot_lanes(&mut sum, gy, &x[(ky * xw + kx) * g.dilation..][..wide_len]);
                        continue;
                    }
                    let grad_output = &grad_output[g.output_at(b, o, 0, 0)..][..g.out_plane()];
                    for (oy, grad_output) in grad_output.chunks_exact(g.out_w).enumerate() {
                        // sum += sum_ox grad_output[b, o, oy, ox]
                        //     * x[b, c, oy*stride + ky*dilation, ox*stride + kx*dilation]
                        let row = oy * g.stride + ky * g.dilation;
                        let x = x[row * xw + kx * g.dilation..].iter().step_by(g.stride);
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

/// Elements below which writing out the padding runs in one thread.
const PARALLEL_COPY: usize = 1 << 16;

/// Runs `body` on each `(index, chunk)` of `data` cut into `chunk`-long pieces, each call with
/// a scratch value of its task: one rayon task per chunk when `parallel`, else all in this
/// thread. Handing work to the pool costs some 10-40 µs (measured), more than a small
/// convolution takes, so small ones stay on the caller's thread.
fn for_each_chunk<E: Send, S: Default>(
    data: &mut [E],
    chunk: usize,
    parallel: bool,
    body: impl Fn(&mut S, (usize, &mut [E])) + Send + Sync,
) {
    if parallel {
        data.par_chunks_mut(chunk)
            .enumerate()
            .for_each_init(S::default, |s, item| body(s, item));
    } else {
        let mut scratch = S::default();
        data.chunks_mut(chunk)
            .enumerate()
            .for_each(|item| body(&mut scratch, item));
    }
}

/// Adds one channel's contribution to a stride-1 correlation computed on a flattened plane:
///
/// `wide[p] += sum_{ky, kx} weight[ky, kx] * src[p + (ky*width + kx)*dilation]`
///
/// With `src` a padded plane whose rows are `width` long, `p = y*width + x` is output `(y, x)`
/// and `p + (ky*width + kx)*dilation` the element `(y + ky*dilation, x + kx*dilation)` it reads:
/// row `y` of the result, continued past its end, runs on into row `y + 1`. So each tap is one
/// `y += w * x` over the whole plane, not one short loop per row. The columns past the output
/// width (`width - out_w` per row) are computed and thrown away: cheap when the kernel is small
/// next to the image.
///
/// Not inlined: one call does a whole plane of work, and as a function of its own it gets its
/// own register allocation (measured 20-30% faster than inlined into the caller's loop).
#[inline(never)]
fn correlate_plane<E: Element>(
    wide: &mut [E],
    src: &[E],
    weight: &[E],
    g: &ConvGeometry,
    width: usize,
) {
    // tap t = (ky, kx) reads `offset(t)` elements further on
    let offset = |t: usize| (t / g.kernel_w * width + t % g.kernel_w) * g.dilation;
    // Taps in passes of 8 while 8 are left, then of 4, then one by one (see `add_taps`).
    let t = add_taps::<E, 8>(wide, src, weight, &offset, 0);
    let t = add_taps::<E, 4>(wide, src, weight, &offset, t);
    add_taps::<E, 1>(wide, src, weight, &offset, t);
}

/// Adds the taps of `weight` from `first` on, `N` per pass while `N` are left:
/// `wide[p] += sum_n weight[t + n] * src[p + offset(t + n)]` for every `p` in `wide`. Returns
/// the first tap not added.
///
/// A pass loads and stores every `wide[p]`: one tap per pass pays that memory traffic for each
/// multiply-add, `N` taps per pass once per `N`. `N` is a constant, so the loop over the `N`
/// taps is unrolled and the loop over `p` becomes SIMD code (every slice has `wide`'s length,
/// so there are no bounds checks).
#[inline(always)]
fn add_taps<E: Element, const N: usize>(
    wide: &mut [E],
    src: &[E],
    weight: &[E],
    offset: &impl Fn(usize) -> usize,
    first: usize,
) -> usize {
    let len = wide.len();
    let mut t = first;
    while t + N <= weight.len() {
        let w: [E; N] = from_fn(|n| weight[t + n]);
        let srcs: [&[E]; N] = from_fn(|n| &src[offset(t + n)..][..len]);
        for (p, y) in wide.iter_mut().enumerate() {
            let mut sum = *y;
            for (&w, src) in w.iter().zip(&srcs) {
                sum += w * src[p];
            }
            *y = sum;
        }
        t += N;
    }
    t
}

/// Lanes of the partial sums in [`dot_lanes`].
const LANES: usize = 8;

/// `sum += a . b` (equal lengths), where `sum` holds `LANES` partial sums: lane `j` takes the
/// terms `a[i] * b[i]` with `i ≡ j (mod LANES)`.
///
/// Floating-point addition is not associative, so LLVM must add the terms of a plain `sum()`
/// one at a time, in order: no SIMD, and each add waits for the previous one. `LANES`
/// independent partial sums let it use vector multiply-adds, and the caller keeps them in
/// registers across many calls, adding the lanes up once at the end. The order is still fixed,
/// so results are deterministic. (Several taps per pass, as in [`add_taps`], would load `a`
/// once for several sums, but measured no faster: LLVM then spills the accumulators.)
#[inline(always)]
fn dot_lanes<E: Element>(sum: &mut [E; LANES], a: &[E], b: &[E]) {
    let (a_chunks, a_tail) = a.as_chunks::<LANES>();
    let (b_chunks, b_tail) = b.as_chunks::<LANES>();
    for (a, b) in a_chunks.iter().zip(b_chunks) {
        for ((lane, &a), &b) in sum.iter_mut().zip(a).zip(b) {
            *lane += a * b;
        }
    }
    for ((lane, &a), &b) in sum.iter_mut().zip(a_tail).zip(b_tail) {
        *lane += a * b;
    }
}

/// The kernel reversed in both spatial axes: `flipped[o, c, ky, kx] = weight[o, c, KH-1-ky,
/// KW-1-kx]` (each `KH·KW` block read backwards).
fn flip<E: Element>(g: &ConvGeometry, weight: &[E]) -> Vec<E> {
    let taps = g.kernel_h * g.kernel_w;
    if taps == 0 {
        return Vec::new();
    }
    weight
        .chunks_exact(taps)
        .flat_map(|k| k.iter().rev().copied())
        .collect()
}

/// Planes of a tensor with their zero padding written out: `[planes, rows, cols]`, row-major.
/// When nothing needs padding the data is borrowed, not copied.
struct Padded<'a, E: Element> {
    data: Cow<'a, [E]>,
    rows: usize,
    cols: usize,
}

impl<'a, E: Element> Padded<'a, E> {
    /// The input `[B, C, H, W]` as the forward pass reads it: `pad_top` zero rows above,
    /// `pad_left` zero columns to the left, and zeros past the bottom/right as far as the last
    /// output's last tap reaches.
    fn input(g: &ConvGeometry, input: &'a [E]) -> Self {
        let reach = |out: usize, k: usize| {
            out.saturating_sub(1) * g.stride + k.saturating_sub(1) * g.dilation + 1
        };
        let rows = (g.pad_top + g.in_h).max(reach(g.out_h, g.kernel_h));
        let cols = (g.pad_left + g.in_w).max(reach(g.out_w, g.kernel_w));
        let size = [g.in_h, g.in_w];
        Padded::new(input, size, [g.pad_top, g.pad_left], 1, [rows, cols])
    }

    /// `grad_output` `[B, O, OH, OW]` as [`grad_input`] reads it: `(KH-1)*dilation` zero rows
    /// above, `(KW-1)*dilation` zero columns to the left, `stride-1` zeros between elements,
    /// and zeros past the bottom/right as far as the last input's last tap reaches.
    fn grad_output(g: &ConvGeometry, grad_output: &'a [E]) -> Self {
        let top = g.kernel_h.saturating_sub(1) * g.dilation;
        let left = g.kernel_w.saturating_sub(1) * g.dilation;
        let spread = |out: usize| out.saturating_sub(1) * g.stride + 1;
        let rows = (top + spread(g.out_h)).max(g.in_h + g.pad_top + top);
        let cols = (left + spread(g.out_w)).max(g.in_w + g.pad_left + left);
        let size = [g.out_h, g.out_w];
        Padded::new(grad_output, size, [top, left], g.stride, [rows, cols])
    }

    /// Copies each `h x w` plane of `src` into a zero `rows x cols` plane, element `(y, x)` to
    /// `(top + y*step, left + x*step)`.
    fn new(
        src: &'a [E],
        [h, w]: [usize; 2],
        [top, left]: [usize; 2],
        step: usize,
        [rows, cols]: [usize; 2],
    ) -> Self {
        if top == 0 && left == 0 && (step == 1 || h * w <= 1) && [rows, cols] == [h, w] {
            let data = Cow::Borrowed(src);
            return Padded { data, rows, cols };
        }
        let planes = src.len().checked_div(h * w).unwrap_or(0);
        let mut data = vec![E::zero(); planes * rows * cols];
        if planes > 0 {
            let parallel = data.len() >= PARALLEL_COPY && rayon::current_num_threads() > 1;
            for_each_chunk(
                &mut data,
                rows * cols,
                parallel,
                |_: &mut (), (plane, dst)| {
                    let src = &src[plane * h * w..][..h * w];
                    for (y, src) in src.chunks_exact(w).enumerate() {
                        let dst = &mut dst[(top + y * step) * cols + left..];
                        if step == 1 {
                            dst[..w].copy_from_slice(src); // a memcpy
                        } else {
                            dst.iter_mut()
                                .step_by(step)
                                .zip(src)
                                .for_each(|(d, &s)| *d = s);
                        }
                    }
                },
            );
        }
        let data = Cow::Owned(data);
        Padded { data, rows, cols }
    }

    /// Plane `plane`, all rows.
    #[inline(always)]
    fn plane(&self, plane: usize) -> &[E] {
        &self.data[plane * self.rows * self.cols..][..self.rows * self.cols]
    }

    /// Row `y` of plane `plane`.
    #[inline(always)]
    fn row(&self, plane: usize, y: usize) -> &[E] {
        &self.data[(plane * self.rows + y) * self.cols..][..self.cols]
    }
}

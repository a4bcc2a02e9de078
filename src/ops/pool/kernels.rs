//! Pooling kernels: the run-time geometry ([`PoolGeometry`], every hyper-parameter per axis),
//! max and average pooling forward and backward, and the index pairs of `tile` ([`Tiling`]).
//!
//! Every kernel works on `planes` independent `[H, W]` planes (a plane is one `(b, c)`; a
//! 1-D pooling is a 2-D one of height 1) and runs one task per plane on rayon's threads when
//! the work pays for them ([`PoolGeometry::worth_threads`]), else on the calling thread.
//! Output positions find the window taps that land inside the input once ([`Window`]), so the
//! inner loops test no padding.

use std::hint::select_unpredictable;

use rayon::prelude::*;

use crate::tensor::Element;

/// The argmax of a window that holds only padding (possible with dilation, e.g. width 3,
/// window 2, dilation 4, padding 1): its output is `-inf` and it sends no gradient. PyTorch
/// gives `-inf` too, and its backward then writes outside the input.
pub const NO_INPUT: u32 = u32::MAX;

/// Windows read this many elements in all before a pooling goes to rayon's threads: handing
/// work to the pool costs some 10-40 µs, about what one core needs for 2^16 window reads.
pub const PARALLEL_MIN_READS: usize = 1 << 16;

/// Sizes and hyper-parameters of a 2-D pooling over `planes` planes `[in_h, in_w]`, giving
/// `[out_h, out_w]` per plane; the window reads
///
/// `input[p, oy*stride[0] + ky*dilation[0] - padding[0], ox*stride[1] + kx*dilation[1] - padding[1]]`
///
/// for `ky < kernel[0]`, `kx < kernel[1]`; positions outside the input are padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolGeometry {
    /// Independent planes: batch × channels.
    pub planes: usize,
    /// Input height (1 for 1-D pooling).
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Output height (1 for 1-D pooling).
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
    /// Window `[height, width]`.
    pub kernel: [usize; 2],
    /// Step between windows `[along the height, along the width]`.
    pub stride: [usize; 2],
    /// Padding on each side `[top and bottom, left and right]`.
    pub padding: [usize; 2],
    /// Step between a window's taps `[along the height, along the width]`.
    pub dilation: [usize; 2],
}

impl PoolGeometry {
    /// PyTorch's output size along one axis, `(n + 2*padding - dilation*(k-1) - 1)/stride + 1`,
    /// or `None` where PyTorch raises: a kernel, stride or dilation of 0, padding above half
    /// the kernel, or a dilated kernel larger than the padded input.
    pub fn out_size(
        n: usize,
        k: usize,
        stride: usize,
        padding: usize,
        dilation: usize,
    ) -> Option<usize> {
        if k == 0 || stride == 0 || dilation == 0 || 2 * padding > k {
            return None;
        }
        let span = dilation * (k - 1) + 1;
        let padded = n + 2 * padding;
        (span <= padded).then(|| (padded - span) / stride + 1)
    }

    /// [`out_size`](Self::out_size) along both axes for this geometry's input and
    /// hyper-parameters.
    pub fn out_sizes(&self) -> Option<[usize; 2]> {
        let axis = |a: usize, n: usize| {
            Self::out_size(
                n,
                self.kernel[a],
                self.stride[a],
                self.padding[a],
                self.dilation[a],
            )
        };
        Some([axis(0, self.in_h)?, axis(1, self.in_w)?])
    }

    /// Elements in one input plane (`H·W`).
    pub fn in_plane(&self) -> usize {
        self.in_h * self.in_w
    }

    /// Elements in one output plane (`OH·OW`).
    pub fn out_plane(&self) -> usize {
        self.out_h * self.out_w
    }

    /// Elements in the input (`planes·H·W`).
    pub fn input_len(&self) -> usize {
        checked_len("input", &[self.planes, self.in_h, self.in_w])
    }

    /// Elements in the output (`planes·OH·OW`).
    pub fn output_len(&self) -> usize {
        checked_len("output", &[self.planes, self.out_h, self.out_w])
    }

    /// Window reads of one pass (`planes·OH·OW·KH·KW`), saturating (it only picks threads).
    pub fn reads(&self) -> usize {
        [self.out_h, self.out_w, self.kernel[0], self.kernel[1]]
            .iter()
            .fold(self.planes, |n, &d| n.saturating_mul(d))
    }

    /// Whether this pooling has enough work to pay for rayon's threads (at least
    /// [`PARALLEL_MIN_READS`] window reads, two planes and two threads).
    pub fn worth_threads(&self) -> bool {
        rayon::current_num_threads() > 1 && self.planes > 1 && self.reads() >= PARALLEL_MIN_READS
    }

    /// The taps of output row `oy`'s windows that land inside the input.
    pub fn rows(&self, oy: usize) -> Window {
        Window::new(
            self.in_h,
            self.kernel[0],
            self.stride[0],
            self.padding[0],
            self.dilation[0],
            oy,
        )
    }

    /// The taps of output column `ox`'s windows that land inside the input.
    pub fn cols(&self, ox: usize) -> Window {
        Window::new(
            self.in_w,
            self.kernel[1],
            self.stride[1],
            self.padding[1],
            self.dilation[1],
            ox,
        )
    }

    /// Panics unless the slices have the lengths this geometry needs and its output sizes are
    /// PyTorch's (a bug in the caller: the typed API computes these).
    pub fn check(&self, kernel: &str, input: usize, output: usize) {
        assert_eq!(
            self.out_sizes(),
            Some([self.out_h, self.out_w]),
            "{kernel}: the output sizes of {self:?} are not PyTorch's"
        );
        assert!(
            u32::try_from(self.in_plane()).is_ok_and(|n| n < NO_INPUT),
            "{kernel}: a plane of {} x {} is too large for u32 argmax indices",
            self.in_h,
            self.in_w
        );
        for (what, expected, found) in [
            ("input", self.input_len(), input),
            ("output", self.output_len(), output),
        ] {
            assert_eq!(
                expected, found,
                "{kernel}: {what} needs {expected} elements for {self:?}, found {found}"
            );
        }
    }

    /// Each column window of one output row, computed once per call.
    fn all_cols(&self) -> Vec<Window> {
        (0..self.out_w).map(|ox| self.cols(ox)).collect()
    }
}

/// The product of `dims`, or a panic naming the tensor when it overflows `usize`.
fn checked_len(what: &str, dims: &[usize]) -> usize {
    dims.iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .unwrap_or_else(|| panic!("pooling: the {what} sizes {dims:?} overflow usize"))
}

/// The taps of one window along one axis that land inside the input: input positions
/// `first, first + step, ..` (`count` of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// The input position of the first tap inside the input (0 when `count` is 0).
    pub first: usize,
    /// How many taps land inside the input.
    pub count: usize,
    /// The dilation: input positions between taps.
    pub step: usize,
}

impl Window {
    /// The window of output `o` over an input of length `n`: taps `t < k` read
    /// `o*stride + t*dilation - padding`, inside when `0 <= .. < n`.
    pub fn new(
        n: usize,
        k: usize,
        stride: usize,
        padding: usize,
        dilation: usize,
        o: usize,
    ) -> Self {
        let start = o * stride; // tap 0, in padded coordinates
                                // start + t*dilation >= padding  <=>  t >= ceil((padding - start) / dilation)
        let first_tap = padding.saturating_sub(start).div_ceil(dilation);
        // start + t*dilation < n + padding  <=>  t < ceil((n + padding - start) / dilation)
        let end_tap = (n + padding)
            .saturating_sub(start)
            .div_ceil(dilation)
            .min(k);
        let count = end_tap.saturating_sub(first_tap);
        let first = if count > 0 {
            start + first_tap * dilation - padding
        } else {
            0
        };
        Window {
            first,
            count,
            step: dilation,
        }
    }

    /// The input positions of the taps inside the input.
    #[inline]
    pub fn positions(self) -> impl Iterator<Item = usize> {
        (0..self.count).map(move |t| self.first + t * self.step)
    }
}

// ---------------------------------------------------------------------------------------------
// Max pooling
// ---------------------------------------------------------------------------------------------

/// Overwrites `output` with the max pooling of `input` and `argmax` with where each maximum
/// was (its offset `iy*W + ix` in its plane):
///
/// `output[p, oy, ox] = max_{ky, kx} input[p, oy*SH + ky*DH - PH, ox*SW + kx*DW - PW]`
///
/// over the taps inside the input (padding is `-inf`, never chosen). As in PyTorch (its CPU
/// kernel keeps `v` when `v > best || isnan(v)`): the first maximum in row-major window order
/// wins; a NaN wins over every number, and of several NaNs the last one; a window whose taps
/// are all `-inf` gives `-inf` from its first tap. One task per plane.
pub fn max_forward<E: Element>(
    g: &PoolGeometry,
    input: &[E],
    output: &mut [E],
    argmax: &mut [u32],
) {
    g.check("max_forward", input.len(), output.len());
    assert_eq!(
        argmax.len(),
        output.len(),
        "max_forward: one argmax per output"
    );
    if g.in_plane() == 0 {
        // every window holds only padding
        output.fill(E::neg_infinity());
        argmax.fill(NO_INPUT);
        return;
    }
    let cols = g.all_cols();
    // Without padding or dilation every window is a plain kh x kw block of the input: read it
    // row by row from slices (no per-tap position arithmetic, no bounds checks in the loop).
    let dense = g.padding == [0, 0] && g.dilation == [1, 1];
    let plane = |((output, argmax), input): ((&mut [E], &mut [u32]), &[E])| {
        if dense {
            return max_plane_dense(g, input, output, argmax);
        }
        for (oy, (output, argmax)) in output
            .chunks_exact_mut(g.out_w)
            .zip(argmax.chunks_exact_mut(g.out_w))
            .enumerate()
        {
            let rows = g.rows(oy);
            for ((y, at), cols) in output.iter_mut().zip(argmax.iter_mut()).zip(&cols) {
                // PyTorch starts from the window's first tap inside the input, so that a
                // window of -inf sends its gradient there
                let first = if rows.count > 0 && cols.count > 0 {
                    (rows.first * g.in_w + cols.first) as u32
                } else {
                    NO_INPUT
                };
                let mut window = WindowMax::starting_at(first);
                for iy in rows.positions() {
                    let row = &input[iy * g.in_w..][..g.in_w];
                    for ix in cols.positions() {
                        window.push(row[ix], (iy * g.in_w + ix) as u32);
                    }
                }
                (*y, *at) = window.finish();
            }
        }
    };
    let (op, ip) = (g.out_plane(), g.in_plane());
    if g.worth_threads() {
        output
            .par_chunks_mut(op)
            .zip(argmax.par_chunks_mut(op))
            .zip(input.par_chunks(ip))
            .for_each(plane);
    } else {
        output
            .chunks_mut(op)
            .zip(argmax.chunks_mut(op))
            .zip(input.chunks(ip))
            .for_each(plane);
    }
}

/// [`max_forward`] on one plane whose windows all lie inside the input (no padding, dilation
/// 1): `output[oy, ox] = max_{ky < KH, kx < KW} input[oy*SH + ky, ox*SW + kx]`.
///
/// Each window is read as a block of slices and its maximum kept in registers. The common
/// window sizes get a copy with the size as a constant, so the loops over the taps unroll; the
/// choice is a select, not a branch (on random data a branch is mispredicted half the time).
/// Measured on `[64, 6, 24, 24]`, 2x2 windows, random normal values, one thread: 0.13 ms,
/// against 0.78 ms when the choice was one select on `v > best || v.is_nan()`, which LLVM
/// compiled to a branch despite `select_unpredictable` (see [`WindowMax`]).
fn max_plane_dense<E: Element>(
    g: &PoolGeometry,
    input: &[E],
    output: &mut [E],
    argmax: &mut [u32],
) {
    match g.kernel {
        [2, 2] => max_plane_window::<E, 2, 2>(g, input, output, argmax),
        [3, 3] => max_plane_window::<E, 3, 3>(g, input, output, argmax),
        _ => max_plane_window::<E, 0, 0>(g, input, output, argmax),
    }
}

/// The running maximum of one window and where it is, by PyTorch's rule: a tap replaces the
/// maximum when `v > best || isnan(v)` (its CPU kernel). So the first of equal maxima wins, a
/// NaN wins over every number, a later NaN over an earlier one, and no number over a NaN.
///
/// Kept as two running choices, each a select on one comparison: the largest number
/// (`v > best`, which a NaN never passes) and the last NaN (`v != v`); [`finish`](Self::finish)
/// prefers the NaN. Why not one choice on `v > best || v.is_nan()`: LLVM compiled it to a
/// branch, mispredicted half the time on random data (0.78 against 0.13 ms on
/// `[64, 6, 24, 24]`, 2x2 windows, one thread); with `|` in place of `||` it still ran 3x
/// slower than one comparison. The single comparison `!(v <= best)` used before was fast but
/// wrong: it is also true when `best` is NaN, so a number after a NaN took its place
/// (`[1, NaN, 0, 0]` pooled to 0).
struct WindowMax<E> {
    best: E,
    best_at: u32,
    nan_at: u32,
}

impl<E: Element> WindowMax<E> {
    /// An empty window whose argmax starts at `first`, the window's first tap inside the input
    /// (as in PyTorch: a window of `-inf` sends its gradient there), or [`NO_INPUT`].
    #[inline(always)]
    fn starting_at(first: u32) -> Self {
        WindowMax {
            best: E::neg_infinity(),
            best_at: first,
            nan_at: NO_INPUT,
        }
    }

    /// Takes in the tap `v` at plane offset `at`.
    #[inline(always)]
    #[allow(clippy::eq_op)] // `v != v` is the NaN test, as one comparison
    fn push(&mut self, v: E, at: u32) {
        let larger = v > self.best;
        self.best = select_unpredictable(larger, v, self.best);
        self.best_at = select_unpredictable(larger, at, self.best_at);
        self.nan_at = select_unpredictable(v != v, at, self.nan_at);
    }

    /// The maximum and its offset: the last NaN if there was one.
    #[inline(always)]
    fn finish(self) -> (E, u32) {
        let nan = self.nan_at != NO_INPUT;
        (
            select_unpredictable(nan, E::nan(), self.best),
            select_unpredictable(nan, self.nan_at, self.best_at),
        )
    }
}

/// The loops of [`max_plane_dense`]; `KH x KW` is the window's size, or `0 x 0` to take it from
/// the geometry at run time.
#[inline(always)]
fn max_plane_window<E: Element, const KH: usize, const KW: usize>(
    g: &PoolGeometry,
    input: &[E],
    output: &mut [E],
    argmax: &mut [u32],
) {
    let [kh, kw] = if KH == 0 { g.kernel } else { [KH, KW] };
    let ([sh, sw], w) = (g.stride, g.in_w);
    for (oy, (output, argmax)) in output
        .chunks_exact_mut(g.out_w)
        .zip(argmax.chunks_exact_mut(g.out_w))
        .enumerate()
    {
        // the kh input rows this output row reads
        let rows = &input[oy * sh * w..][..(kh - 1) * w + w];
        for (ox, (y, at)) in output.iter_mut().zip(argmax.iter_mut()).enumerate() {
            let x0 = ox * sw;
            // from the window's first tap, as PyTorch (a window of -inf sends its gradient there)
            let mut window = WindowMax::starting_at((oy * sh * w + x0) as u32);
            for ky in 0..kh {
                let taps = &rows[ky * w + x0..][..kw];
                let row_at = ((oy * sh + ky) * w + x0) as u32;
                for (kx, &v) in (0u32..).zip(taps) {
                    window.push(v, row_at + kx);
                }
            }
            (*y, *at) = window.finish();
        }
    }
}

/// Adds the gradient of max pooling into `grad_input`: each output's gradient goes to the
/// input element its window's maximum came from,
///
/// `grad_input[p, argmax[p, o]] += grad_output[p, o]`.
///
/// One task per plane (windows never cross planes, so the planes' writes are disjoint).
pub fn max_backward<E: Element>(
    g: &PoolGeometry,
    grad_output: &[E],
    argmax: &[u32],
    grad_input: &mut [E],
) {
    g.check("max_backward", grad_input.len(), grad_output.len());
    assert_eq!(
        argmax.len(),
        grad_output.len(),
        "max_backward: one argmax per output"
    );
    if g.in_plane() == 0 {
        return;
    }
    let plane = |(grad_input, (grad_output, argmax)): (&mut [E], (&[E], &[u32]))| {
        for (&gy, &at) in grad_output.iter().zip(argmax) {
            if at != NO_INPUT {
                grad_input[at as usize] += gy;
            }
        }
    };
    let (op, ip) = (g.out_plane(), g.in_plane());
    if g.worth_threads() {
        grad_input
            .par_chunks_mut(ip)
            .zip(grad_output.par_chunks(op).zip(argmax.par_chunks(op)))
            .for_each(plane);
    } else {
        grad_input
            .chunks_mut(ip)
            .zip(grad_output.chunks(op).zip(argmax.chunks(op)))
            .for_each(plane);
    }
}

// ---------------------------------------------------------------------------------------------
// Average pooling
// ---------------------------------------------------------------------------------------------

/// Overwrites `output` with the average pooling of `input`:
///
/// `output[p, oy, ox] = 1/(KH*KW) * sum_{ky, kx} input[p, oy*SH + ky*DH - PH, ox*SW + kx*DW - PW]`
///
/// with padding counted as zeros (PyTorch's `count_include_pad=True`: the divisor is always
/// `KH*KW`). One task per plane.
pub fn avg_forward<E: Element>(g: &PoolGeometry, input: &[E], output: &mut [E]) {
    g.check("avg_forward", input.len(), output.len());
    if g.in_plane() == 0 {
        output.fill(E::zero());
        return;
    }
    let count = E::of((g.kernel[0] * g.kernel[1]) as f64);
    let cols = g.all_cols();
    let plane = |(output, input): (&mut [E], &[E])| {
        for (oy, output) in output.chunks_exact_mut(g.out_w).enumerate() {
            let rows = g.rows(oy);
            for (y, cols) in output.iter_mut().zip(&cols) {
                let mut sum = E::zero();
                for iy in rows.positions() {
                    let row = &input[iy * g.in_w..][..g.in_w];
                    for ix in cols.positions() {
                        sum += row[ix];
                    }
                }
                *y = sum / count;
            }
        }
    };
    let (op, ip) = (g.out_plane(), g.in_plane());
    if g.worth_threads() {
        output
            .par_chunks_mut(op)
            .zip(input.par_chunks(ip))
            .for_each(plane);
    } else {
        output.chunks_mut(op).zip(input.chunks(ip)).for_each(plane);
    }
}

/// Adds the gradient of average pooling into `grad_input`: each output's gradient, divided by
/// `KH*KW`, goes to every tap of its window inside the input,
///
/// `grad_input[p, oy*SH + ky*DH - PH, ox*SW + kx*DW - PW] += grad_output[p, oy, ox] / (KH*KW)`.
///
/// One task per plane.
pub fn avg_backward<E: Element>(g: &PoolGeometry, grad_output: &[E], grad_input: &mut [E]) {
    g.check("avg_backward", grad_input.len(), grad_output.len());
    if g.in_plane() == 0 {
        return;
    }
    let count = E::of((g.kernel[0] * g.kernel[1]) as f64);
    let cols = g.all_cols();
    let plane = |(grad_input, grad_output): (&mut [E], &[E])| {
        for (oy, grad_output) in grad_output.chunks_exact(g.out_w).enumerate() {
            let rows = g.rows(oy);
            for (&gy, cols) in grad_output.iter().zip(&cols) {
                let share = gy / count;
                for iy in rows.positions() {
                    let row = &mut grad_input[iy * g.in_w..][..g.in_w];
                    for ix in cols.positions() {
                        row[ix] += share;
                    }
                }
            }
        }
    };
    let (op, ip) = (g.out_plane(), g.in_plane());
    if g.worth_threads() {
        grad_input
            .par_chunks_mut(ip)
            .zip(grad_output.par_chunks(op))
            .for_each(plane);
    } else {
        grad_input
            .chunks_mut(ip)
            .zip(grad_output.chunks(op))
            .for_each(plane);
    }
}

// ---------------------------------------------------------------------------------------------
// tile
// ---------------------------------------------------------------------------------------------

/// The sizes of a `tile`: `planes` planes `[in_h, in_w]` cut into tiles `kernel = [KH, KW]`
/// (which divide them), giving `[in_h/KH, in_w/KW, KH*KW]` per plane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tiling {
    /// Independent planes: batch × channels.
    pub planes: usize,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Tile `[height, width]`.
    pub kernel: [usize; 2],
}

impl Tiling {
    /// Calls `visit(output_offset, input_offset)` for every element, in output order:
    ///
    /// `output[p, i, j, ky*KW + kx] = input[p, i*KH + ky, j*KW + kx]`.
    ///
    /// The forward pass copies along these pairs and the backward pass adds along them, so no
    /// table of them is kept.
    pub fn for_each_pair(&self, mut visit: impl FnMut(usize, usize)) {
        let [kh, kw] = self.kernel;
        assert!(
            kh > 0 && kw > 0 && self.in_h.is_multiple_of(kh) && self.in_w.is_multiple_of(kw),
            "tile: {kh} x {kw} tiles do not cut {self:?}"
        );
        let (tiles_h, tiles_w) = (self.in_h / kh, self.in_w / kw);
        let mut out = 0;
        for p in 0..self.planes {
            let plane = p * self.in_h * self.in_w;
            for i in 0..tiles_h {
                for j in 0..tiles_w {
                    for ky in 0..kh {
                        let row = plane + (i * kh + ky) * self.in_w + j * kw;
                        for kx in 0..kw {
                            visit(out, row + kx);
                            out += 1;
                        }
                    }
                }
            }
        }
    }
}

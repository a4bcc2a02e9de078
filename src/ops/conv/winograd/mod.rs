//! Winograd's F(2x2, 3x3) for 3x3 convolutions with stride 1 and dilation 1: each 2x2 block of
//! outputs from a 4x4 block of inputs with 16 multiplies per input channel where the formula
//! takes 36 (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016).
//!
//! For an output tile `Y` (2x2) of output channel `o`, the inputs `d_c` (4x4) under it and the
//! kernels `g_oc` (3x3):
//!
//! `Y = Aᵀ [ sum_c (G g_oc Gᵀ) ⊙ (Bᵀ d_c B) ] A`
//!
//! ```text
//! Bᵀ = [1  0 -1  0]    G = [  1    0    0 ]    Aᵀ = [1 1  1  0]
//!      [0  1  1  0]        [ 1/2  1/2  1/2]         [0 1 -1 -1]
//!      [0 -1  1  0]        [ 1/2 -1/2  1/2]
//!      [0  1  0 -1]        [  0    0    1 ]
//! ```
//!
//! The transformed kernels `U = G g Gᵀ` and inputs `V = Bᵀ d B` have 16 entries each, and for
//! each entry `ξ` the sum over channels is a matrix multiply over all tiles at once:
//! `M[ξ] (O x T) = U[ξ] (O x C) · V[ξ] (C x T)`. So a convolution is: transform the input's
//! tiles, 16 GEMMs, transform the products back. Multiplies: `16/36` of the direct loops'
//! (2.25x fewer); the transforms are additions only.
//!
//! Both gradients stay in the same transformed space:
//! - the input's gradient is the correlation of the upstream gradient with the reversed,
//!   transposed kernel (`direct.rs` has the formula): the forward computation again, on the
//!   upstream gradient, with `K-1-padding` of padding;
//! - the weight's: with `dM = A dY Aᵀ` (4x4, from each 2x2 tile of the upstream gradient),
//!   `dU[ξ] (O x C) = sum over tiles dM[ξ] (O x T) · V[ξ]ᵀ (T x C)` (16 GEMMs), then
//!   `dg = Gᵀ dU G`: exactly the gradient of the computation above.
//!
//! Tiles are taken in blocks of whole tile rows, which may span batch entries (a 4x4 plane has
//! 4 tiles: one entry alone would give the GEMMs 4 columns), sized so that a block's transformed
//! inputs and products stay near the L2 cache. Threads split the batch, as im2col's do.
//!
//! The transforms run along rows, vectorised: `Bᵀ d` combines four input rows element by
//! element, then `· B` combines the even and odd columns of the result, again elementwise over
//! the tiles of a row, and the 16 values of every tile of the row land in 16 contiguous runs.
//! Rounding: the transforms add and halve, so the error stays close to the direct loops' (the
//! golden tests' f32 tolerance holds; README: the error against float64).

mod tiling;

use std::ops::Range;

use super::cpu::Isa;
use super::ConvGeometry;
use crate::memory::Buffer;
use crate::ops::parallel::{add_per_thread_sums, split_by_entries};
use crate::tensor::{matmul_into, Element, MatRef};
use tiling::Tiling;

/// Entries of a transformed tile: 4x4.
const POINTS: usize = 16;

/// The bytes a block's transformed inputs and products aim at: about the L2 cache.
const BLOCK_BYTES: usize = 1 << 20;

/// The fewest tiles a block has, however many channels: the GEMMs' columns.
const MIN_BLOCK_TILES: usize = 64;

/// Tiles per block for `pass` of `g` in `E`: [`BLOCK_BYTES`] of transformed inputs and
/// products (or upstream gradients), at least [`MIN_BLOCK_TILES`].
pub(super) fn block_tiles<E>(g: &ConvGeometry, pass: super::ConvPass) -> usize {
    let _ = pass; // the same channels meet in every pass: C inputs and O outputs
    let per_tile = POINTS * (g.in_channels + g.out_channels) * size_of::<E>();
    (BLOCK_BYTES / per_tile.max(1)).max(MIN_BLOCK_TILES)
}

/// Whether F(2x2, 3x3) computes `g`: a 3x3 kernel, stride 1 and dilation 1 along both axes.
pub(super) fn applies(g: &ConvGeometry) -> bool {
    [g.kernel_h, g.kernel_w] == [3, 3]
        && [g.stride_h, g.stride_w] == [1, 1]
        && [g.dilation_h, g.dilation_w] == [1, 1]
}

/// The Winograd kernels of one geometry (a 3x3 kernel, stride 1, dilation 1).
pub(super) struct Winograd<'a> {
    g: &'a ConvGeometry,
    /// Tiles per block, about (whole rows of tiles).
    block_tiles: usize,
    /// The instruction set of the transforms' copies.
    isa: Isa,
}

impl<'a> Winograd<'a> {
    /// The kernels of `g`, which must be a geometry F(2x2, 3x3) [`applies`] to, on blocks of
    /// about `block_tiles` tiles, the transforms in their copy for `isa`.
    pub(super) fn new(g: &'a ConvGeometry, block_tiles: usize, isa: Isa) -> Self {
        assert!(
            applies(g),
            "winograd: a 3x3 kernel, stride 1, dilation 1: {g:?}"
        );
        Winograd {
            g,
            block_tiles,
            isa,
        }
    }

    /// The tiling of the forward pass (and of the weight's gradient): the input read with the
    /// geometry's padding into the output.
    fn forward_tiling(&self) -> Tiling {
        let g = self.g;
        Tiling {
            batch: g.batch,
            inputs: g.in_channels,
            outputs: g.out_channels,
            src: [g.in_h, g.in_w],
            dst: [g.out_h, g.out_w],
            padding: [g.pad_top as isize, g.pad_left as isize],
            block_tiles: self.block_tiles,
            isa: self.isa,
        }
    }

    /// Overwrites `output` with the convolution of `input` and `weight`.
    pub(super) fn forward<E: Element>(&self, input: &[E], weight: &[E], output: &mut [E]) {
        let g = self.g;
        g.check("winograd::forward", input.len(), weight.len(), output.len());
        // U[ξ][o][c] = (G weight[o, c] Gᵀ)[ξ]
        let u = transform_kernels(g.out_channels, g.in_channels, |o, c, tap| {
            weight[g.weight_at(o, c, 0, 0) + tap]
        });
        let tiling = self.forward_tiling();
        tiling.correlate(input, &u, output, false, g.worth_threads());
    }

    /// Adds the gradient with respect to the input into `grad_input`: the upstream gradient
    /// correlated with the kernel reversed and transposed (input channels as outputs), padded
    /// by `K-1-padding` above and left.
    pub(super) fn grad_input<E: Element>(
        &self,
        grad_output: &[E],
        weight: &[E],
        grad_input: &mut [E],
    ) {
        let g = self.g;
        g.check(
            "winograd::grad_input",
            grad_input.len(),
            weight.len(),
            grad_output.len(),
        );
        // U[ξ][c][o] = (G flipped[c, o] Gᵀ)[ξ], flipped[c, o][ky][kx] = weight[o, c, 2-ky, 2-kx]
        let u = transform_kernels(g.in_channels, g.out_channels, |c, o, tap| {
            weight[g.weight_at(o, c, 0, 0) + 8 - tap]
        });
        let tiling = Tiling {
            batch: g.batch,
            inputs: g.out_channels,
            outputs: g.in_channels,
            src: [g.out_h, g.out_w],
            dst: [g.in_h, g.in_w],
            padding: [2 - g.pad_top as isize, 2 - g.pad_left as isize],
            block_tiles: self.block_tiles,
            isa: self.isa,
        };
        tiling.correlate(grad_output, &u, grad_input, true, g.worth_threads());
    }

    /// Adds the gradient with respect to the weight into `grad_weight`: per block of tiles,
    /// `dU[ξ] += dM[ξ] · V[ξ]ᵀ`; at the end `grad_weight[o, c] += Gᵀ dU[o, c] G`. Split by
    /// batch, each thread summing into its own `dU`.
    pub(super) fn grad_weight<E: Element>(
        &self,
        grad_output: &[E],
        input: &[E],
        grad_weight: &mut [E],
    ) {
        let g = self.g;
        g.check(
            "winograd::grad_weight",
            input.len(),
            grad_weight.len(),
            grad_output.len(),
        );
        if grad_weight.is_empty() || grad_output.is_empty() {
            return;
        }
        let tiling = self.forward_tiling();
        let (c, o) = (g.in_channels, g.out_channels);
        // Adds the gradient from `entries` into `grad_weight`.
        let run = |entries: Range<usize>, grad_weight: &mut [E], single_thread: bool| {
            let mut du = Buffer::<E>::zeroed(POINTS * o * c);
            let (mut v, mut dm) = (tiling.scratch(c, &entries), tiling.scratch(o, &entries));
            let mut padded = Vec::new();
            for rows in tiling.blocks(&entries) {
                let tiles = rows.len() * tiling.tiles()[1];
                let (v, dm) = (&mut v[..POINTS * c * tiles], &mut dm[..POINTS * o * tiles]);
                tiling.transform_inputs(input, &rows, v, &mut padded);
                tiling.transform_grad_outputs(grad_output, &rows, dm);
                for ((du, dm), v) in du
                    .chunks_exact_mut(o * c)
                    .zip(dm.chunks_exact(o * tiles))
                    .zip(v.chunks_exact(c * tiles))
                {
                    // dU[ξ] += dM[ξ] · V[ξ]ᵀ
                    // (O, T) x (T, C) -> (O, C), added
                    let (a, b) = (MatRef::row_major(dm, tiles), MatRef::transposed(v, tiles));
                    matmul_into(o, tiles, c, a, b, du, true, single_thread);
                }
            }
            // grad_weight[o, c] += Gᵀ dU[o, c] G
            add_kernel_gradients(&du, o, c, grad_weight);
        };
        if split_by_entries(g.batch, g.worth_threads()) {
            add_per_thread_sums(g.batch, grad_weight, |entries, sum| run(entries, sum, true));
        } else {
            run(0..g.batch, grad_weight, !g.worth_threads());
        }
    }
}

/// `U[ξ][j][i] = (G k Gᵀ)[ξ]` for `outputs x inputs` 3x3 kernels `k`, tap `(ky, kx)` of
/// kernel `(j, i)` being `kernel(j, i, ky*3 + kx)`: `[16][outputs][inputs]`. Per output `j`,
/// the 9 taps of every input's kernel are gathered into 9 runs, and both halves of the
/// transform run along them (elementwise over the inputs, so they vectorise).
fn transform_kernels<E: Element>(
    outputs: usize,
    inputs: usize,
    kernel: impl Fn(usize, usize, usize) -> E,
) -> Buffer<E> {
    let mut u = Buffer::for_overwrite(POINTS * outputs * inputs);
    let half = E::of(0.5);
    // taps[t][i]: tap t of input i's kernel; gk[y][x][i]: (G k)[y][x]
    let mut taps = vec![E::zero(); 9 * inputs];
    let mut gk = vec![E::zero(); 12 * inputs];
    for j in 0..outputs {
        for (t, run) in taps.chunks_exact_mut(inputs.max(1)).enumerate() {
            for (i, value) in run.iter_mut().enumerate() {
                *value = kernel(j, i, t);
            }
        }
        // G k, by column x: rows [k0, (k0 + k1 + k2)/2, (k0 - k1 + k2)/2, k2]
        for x in 0..3 {
            let (k0, k1, k2) = (
                &taps[x * inputs..][..inputs],
                &taps[(3 + x) * inputs..][..inputs],
                &taps[(6 + x) * inputs..][..inputs],
            );
            let run = |y: usize| (y * 3 + x) * inputs;
            for i in 0..inputs {
                let (a, b, c) = (k0[i], k1[i], k2[i]);
                gk[run(0) + i] = a;
                gk[run(1) + i] = (a + b + c) * half;
                gk[run(2) + i] = (a - b + c) * half;
                gk[run(3) + i] = c;
            }
        }
        // (G k) Gᵀ, by row y: columns [a, (a + b + c)/2, (a - b + c)/2, c]
        for y in 0..4 {
            let row = &gk[y * 3 * inputs..][..3 * inputs];
            let (a, b, c) = (&row[..inputs], &row[inputs..2 * inputs], &row[2 * inputs..]);
            let at = |x: usize| ((y * 4 + x) * outputs + j) * inputs;
            for i in 0..inputs {
                let (a, b, c) = (a[i], b[i], c[i]);
                u[at(0) + i] = a;
                u[at(1) + i] = (a + b + c) * half;
                u[at(2) + i] = (a - b + c) * half;
                u[at(3) + i] = c;
            }
        }
    }
    u
}

/// `grad[j][i] += Gᵀ dU[j][i] G` (3x3) for `outputs x inputs` kernels from the gradients of
/// their transforms, `du` (`[16][outputs][inputs]`): the gradient of each kernel from the
/// gradient of its transform. Per output `j`, along runs over the inputs (vectorised), then the
/// 9 runs of taps added into the kernels.
fn add_kernel_gradients<E: Element>(du: &[E], outputs: usize, inputs: usize, grad: &mut [E]) {
    let half = E::of(0.5);
    // gtd[y][x][i]: (Gᵀ dU)[y][x], y < 3, x < 4; taps[y][x][i]: ((Gᵀ dU) G)[y][x]
    let mut gtd = vec![E::zero(); 12 * inputs];
    let mut taps = vec![E::zero(); 9 * inputs];
    for j in 0..outputs {
        let run = |xi: usize| &du[(xi * outputs + j) * inputs..][..inputs];
        // Gᵀ dU, by column x: rows [a + (b + c)/2, (b - c)/2, (b + c)/2 + d]
        for x in 0..4 {
            let (a, b, c, d) = (run(x), run(4 + x), run(8 + x), run(12 + x));
            let at = |y: usize| (y * 4 + x) * inputs;
            for i in 0..inputs {
                let (a, b, c, d) = (a[i], b[i], c[i], d[i]);
                gtd[at(0) + i] = a + (b + c) * half;
                gtd[at(1) + i] = (b - c) * half;
                gtd[at(2) + i] = (b + c) * half + d;
            }
        }
        // (Gᵀ dU) G, by row y: columns [a + (b + c)/2, (b - c)/2, (b + c)/2 + d]
        for y in 0..3 {
            let row = &gtd[y * 4 * inputs..][..4 * inputs];
            let (a, rest) = row.split_at(inputs);
            let (b, rest) = rest.split_at(inputs);
            let (c, d) = rest.split_at(inputs);
            let at = |x: usize| (y * 3 + x) * inputs;
            for i in 0..inputs {
                let (a, b, c, d) = (a[i], b[i], c[i], d[i]);
                taps[at(0) + i] = a + (b + c) * half;
                taps[at(1) + i] = (b - c) * half;
                taps[at(2) + i] = (b + c) * half + d;
            }
        }
        // grad[j][i][tap] += taps[tap][i]
        let grad = &mut grad[j * inputs * 9..][..inputs * 9];
        for (i, kernel) in grad.chunks_exact_mut(9).enumerate() {
            for (t, g) in kernel.iter_mut().enumerate() {
                *g += taps[t * inputs + i];
            }
        }
    }
}

//! Convolution as im2col followed by matrix multiplies: the kernel form of the lecture's
//! *unroll* (whose typed view, `x.unroll::<K>()`, is `ops/unroll.rs`).
//!
//! im2col copies every input element each kernel tap reads into a matrix with one row per
//! tap `(c, ky, kx)` and one column per output position `(b, oy, ox)`, zero where the tap reads
//! padding:
//!
//! `unrolled[(c*KH + ky)*KW + kx, (b*OH + oy)*OW + ox] =
//!     input[b, c, oy*stride_h + ky*dilation_h - pad_top,
//!                 ox*stride_w + kx*dilation_w - pad_left]`
//!
//! Then the forward pass is `weight (O, C·KH·KW) x unrolled (C·KH·KW, B·OH·OW)`, and both
//! gradients are matrix multiplies too. The copy costs `KH·KW` times the input, but the
//! multiply runs in a blocked, vectorised GEMM (the `gemm` crate's), which wins when there are
//! many channels. Same contract as [`naive`](super::naive): `forward` overwrites, the gradients
//! add.
//!
//! The whole matrix is never built. Its columns are cut into *tiles* of about [`TILE_BYTES`]
//! (a few hundred output positions), and each tile is unrolled, multiplied and done with while
//! it is still in the L2 cache. Why tiles:
//! 1. a whole matrix is `KH·KW` times the input (6.6 MB per batch entry for a 3x3 kernel over
//!    64 channels of 56x56): written out, then read back by the GEMM from main memory;
//! 2. a tile may span several batch entries, so small planes still give the GEMM wide products:
//!    one product per entry of `x=[64,6,12,12] w=[16,6,5,5]` is `16 x 150 x 64`, mostly the
//!    GEMM's fixed cost; tiles make it `16 x 150 x 872`.
//!
//! Work is split across threads by ranges of batch entries (each with its own tiles, each
//! matrix multiply single-threaded) when there are at least as many entries as threads: whole
//! independent multiplies need no synchronisation, and each thread's tiles stay in its own
//! cache. With fewer entries than threads the multiplies themselves are split instead.

use std::ops::Range;

use super::geometry::TapSpan;
use super::ConvGeometry;
use crate::memory::Buffer;
use crate::ops::parallel::{add_per_thread_sums, for_each_entry_range, split_by_entries};
use crate::tensor::{matmul_into, Element, MatRef};

/// The size an unrolled tile aims at. The L2 cache is 2 MB per core on the machine this was
/// tuned on; a tile of 512 KB leaves room for the GEMM's packed blocks and the tile's product.
/// Measured on `x=[8,64,56,56] w=[64,64,3,3]` (1 thread): 256 KB to 1 MB are within 3% of each
/// other; the whole entry at once (6.6 MB) is 25% slower.
pub const TILE_BYTES: usize = 512 << 10;

/// The fewest columns a tile has, however many taps: narrower products cost the GEMM more in
/// fixed overhead than the cache saves.
const MIN_TILE_COLUMNS: usize = 128;

/// The im2col kernels of one geometry, with the width of their tiles (from the plan).
pub(super) struct Im2col<'a> {
    g: &'a ConvGeometry,
    /// Output positions (columns of the unrolled matrix) per tile.
    tile_columns: usize,
}

impl<'a> Im2col<'a> {
    /// The kernels of `g` on tiles of `tile_columns` columns (at least 1).
    pub(super) fn new(g: &'a ConvGeometry, tile_columns: usize) -> Self {
        Im2col {
            g,
            tile_columns: tile_columns.max(1),
        }
    }

    /// Overwrites `output` with the convolution of `input` and `weight` (formula in
    /// [`ConvGeometry`]): per tile, `product = weight x unrolled`, copied to its output positions.
    pub(super) fn forward<E: Element>(&self, input: &[E], weight: &[E], output: &mut [E]) {
        let (g, width) = (self.g, self.tile_columns);
        g.check("im2col::forward", input.len(), weight.len(), output.len());
        if output.is_empty() {
            return;
        }
        let spans = Spans::new(g);
        let (rows, o) = (g.taps_per_output(), g.out_channels);
        // Computes the output of `entries` into `output` (theirs only).
        let run = |entries: Range<usize>, output: &mut [E], single_thread: bool| {
            let (mut unrolled, mut product) = (
                scratch(g, width, &entries, rows),
                scratch(g, width, &entries, o),
            );
            for tile in Tile::cover(g, entries.clone(), width) {
                let n = tile.columns.len();
                let (unrolled, product) = (&mut unrolled[..rows * n], &mut product[..o * n]);
                im2col_tile(g, &spans, input, &tile, unrolled);
                // product = weight x unrolled
                // (O, C*KH*KW) x (C*KH*KW, n) -> (O, n)
                let (w, u) = (
                    MatRef::row_major(weight, rows),
                    MatRef::row_major(unrolled, n),
                );
                matmul_into(o, rows, n, w, u, product, false, single_thread);
                // output[b, o, p] = product[o, column of (b, p)]
                for seg in &tile.segments {
                    let output = &mut output[(seg.entry - entries.start) * o * g.out_plane()..];
                    for (o, output) in output.chunks_exact_mut(g.out_plane()).take(o).enumerate() {
                        let product = &product[o * n + seg.column..][..seg.positions.len()];
                        output[seg.positions.clone()].copy_from_slice(product);
                    }
                }
            }
        };
        run_by_batch(g, output, o * g.out_plane(), run);
    }

    /// Adds the gradient with respect to the input into `grad_input`: per tile, the gradient of the
    /// unrolled tile is `weightᵀ x grad_output[tile]`, and folding it back (the reverse of unrolling,
    /// col2im) adds each of its elements into the input element it was copied from.
    pub(super) fn grad_input<E: Element>(
        &self,
        grad_output: &[E],
        weight: &[E],
        grad_input: &mut [E],
    ) {
        let (g, width) = (self.g, self.tile_columns);
        g.check(
            "im2col::grad_input",
            grad_input.len(),
            weight.len(),
            grad_output.len(),
        );
        if grad_input.is_empty() || grad_output.is_empty() {
            return;
        }
        let spans = Spans::new(g);
        let (rows, o) = (g.taps_per_output(), g.out_channels);
        let run = |entries: Range<usize>, grad_input: &mut [E], single_thread: bool| {
            let (mut upstream, mut grad_unrolled) = (
                scratch(g, width, &entries, o),
                scratch(g, width, &entries, rows),
            );
            for tile in Tile::cover(g, entries.clone(), width) {
                let n = tile.columns.len();
                let (upstream, grad_unrolled) =
                    (&mut upstream[..o * n], &mut grad_unrolled[..rows * n]);
                gather_grad_output(g, grad_output, &tile, upstream);
                // grad_unrolled = weightᵀ x upstream
                // (C*KH*KW, O) x (O, n) -> (C*KH*KW, n)
                let (wt, gy) = (
                    MatRef::transposed(weight, rows),
                    MatRef::row_major(upstream, n),
                );
                matmul_into(rows, o, n, wt, gy, grad_unrolled, false, single_thread);
                let first = entries.start * g.in_channels * g.in_plane();
                col2im_tile(g, &spans, grad_unrolled, &tile, grad_input, first);
            }
        };
        run_by_batch(g, grad_input, g.in_channels * g.in_plane(), run);
    }

    /// Adds the gradient with respect to the weight into `grad_weight`:
    /// `grad_weight += sum over tiles of grad_output[tile] x unrolled[tile]ᵀ`. Split by batch, each
    /// thread sums its tiles into its own `(O, C·KH·KW)` buffer, and the buffers are added at the
    /// end.
    pub(super) fn grad_weight<E: Element>(
        &self,
        grad_output: &[E],
        input: &[E],
        grad_weight: &mut [E],
    ) {
        let (g, width) = (self.g, self.tile_columns);
        g.check(
            "im2col::grad_weight",
            input.len(),
            grad_weight.len(),
            grad_output.len(),
        );
        if grad_weight.is_empty() || grad_output.is_empty() {
            return;
        }
        let spans = Spans::new(g);
        let (rows, o) = (g.taps_per_output(), g.out_channels);
        // Adds the gradient from `entries` into `grad_weight`.
        let run = |entries: Range<usize>, grad_weight: &mut [E], single_thread: bool| {
            let (mut unrolled, mut upstream) = (
                scratch(g, width, &entries, rows),
                scratch(g, width, &entries, o),
            );
            for tile in Tile::cover(g, entries, width) {
                let n = tile.columns.len();
                let (unrolled, upstream) = (&mut unrolled[..rows * n], &mut upstream[..o * n]);
                im2col_tile(g, &spans, input, &tile, unrolled);
                gather_grad_output(g, grad_output, &tile, upstream);
                // grad_weight += upstream x unrolledᵀ
                // (O, n) x (n, C*KH*KW) -> (O, C*KH*KW), added
                let (gy, ut) = (
                    MatRef::row_major(upstream, n),
                    MatRef::transposed(unrolled, n),
                );
                matmul_into(o, n, rows, gy, ut, grad_weight, true, single_thread);
            }
        };
        if split_by_entries(g.batch, g.worth_threads()) {
            add_per_thread_sums(g.batch, grad_weight, |entries, sum| run(entries, sum, true));
        } else {
            run(0..g.batch, grad_weight, !g.worth_threads());
        }
    }
}

/// Scratch for one task's tiles (`tile_columns` wide), `per_column` values for each column of
/// its widest tile: a pooled buffer ([`crate::memory`]), so from a training step's second pass
/// on the scratch is the previous pass's memory, not a new allocation. Its values are left from
/// an earlier use: every kernel above overwrites the part it reads.
fn scratch<E: Element>(
    g: &ConvGeometry,
    tile_columns: usize,
    entries: &Range<usize>,
    per_column: usize,
) -> Buffer<E> {
    let columns = tile_columns.min(entries.len() * g.out_plane());
    Buffer::for_overwrite(per_column * columns)
}

/// Runs `run(entries, data_of_those_entries, single_thread)` over the batch (see
/// [`for_each_entry_range`]).
fn run_by_batch<E: Element>(
    g: &ConvGeometry,
    data: &mut [E],
    per_entry: usize,
    run: impl Fn(Range<usize>, &mut [E], bool) + Sync,
) {
    for_each_entry_range(g.batch, data, per_entry, g.worth_threads(), run)
}

/// Columns per tile: [`TILE_BYTES`] of unrolled matrix, at least [`MIN_TILE_COLUMNS`].
pub(super) fn tile_columns<E>(g: &ConvGeometry) -> usize {
    let per_column = g.taps_per_output().max(1) * std::mem::size_of::<E>();
    (TILE_BYTES / per_column).max(MIN_TILE_COLUMNS)
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

/// A run of output positions of one batch entry inside a tile: `positions` (`oy*OW + ox`) of
/// `entry`, at tile columns `column..column + positions.len()`.
struct Segment {
    entry: usize,
    positions: Range<usize>,
    column: usize,
}

/// A piece of one output row inside a tile: columns `ox` of row `oy` of `entry`, at tile
/// column `column` on.
struct RowPiece {
    entry: usize,
    oy: usize,
    ox: Range<usize>,
    column: usize,
}

/// A tile: a range of the unrolled matrix's columns (`(b*OH + oy)*OW + ox`), cut at batch
/// entries (for copying results) and at output rows (for unrolling).
struct Tile {
    columns: Range<usize>,
    segments: Vec<Segment>,
    pieces: Vec<RowPiece>,
    /// The pieces again, runs of whole consecutive rows of one entry merged (see [`RowBlock`]).
    blocks: Vec<RowBlock>,
}

/// Consecutive row pieces of one batch entry with the same columns `ox`: rows `oy` of
/// `entry`, row `oy.start + k` at tile column `column + k*ox.len()` on. A tile of whole entries
/// has one block per entry, so [`col2im_tile`] works out a tap's place once per block, not once
/// per row.
struct RowBlock {
    entry: usize,
    oy: Range<usize>,
    ox: Range<usize>,
    column: usize,
}

impl Tile {
    /// The tiles, `width` columns each (the last one narrower), covering `entries`.
    fn cover(
        g: &ConvGeometry,
        entries: Range<usize>,
        width: usize,
    ) -> impl Iterator<Item = Tile> + '_ {
        let plane = g.out_plane();
        let columns = entries.start * plane..entries.end * plane;
        (columns.start..columns.end)
            .step_by(width)
            .map(move |start| Tile::new(g, start..(start + width).min(columns.end)))
    }

    fn new(g: &ConvGeometry, columns: Range<usize>) -> Tile {
        let (plane, ow) = (g.out_plane(), g.out_w);
        let mut segments = Vec::new();
        let mut j = columns.start;
        while j < columns.end {
            let (entry, p) = (j / plane, j % plane);
            let len = (plane - p).min(columns.end - j);
            let column = j - columns.start;
            segments.push(Segment {
                entry,
                positions: p..p + len,
                column,
            });
            j += len;
        }
        let mut pieces = Vec::new();
        let mut j = columns.start;
        while j < columns.end {
            let (row, ox) = (j / ow, j % ow);
            let len = (ow - ox).min(columns.end - j);
            pieces.push(RowPiece {
                entry: row / g.out_h,
                oy: row % g.out_h,
                ox: ox..ox + len,
                column: j - columns.start,
            });
            j += len;
        }
        let mut blocks: Vec<RowBlock> = Vec::new();
        for piece in &pieces {
            match blocks.last_mut() {
                Some(b)
                    if b.entry == piece.entry
                        && b.oy.end == piece.oy
                        && b.ox == piece.ox
                        && b.column + b.oy.len() * b.ox.len() == piece.column =>
                {
                    b.oy.end += 1
                }
                _ => blocks.push(RowBlock {
                    entry: piece.entry,
                    oy: piece.oy..piece.oy + 1,
                    ox: piece.ox.clone(),
                    column: piece.column,
                }),
            }
        }
        Tile {
            columns,
            segments,
            pieces,
            blocks,
        }
    }
}

/// Unrolls one tile into `unrolled`, `(C·KH·KW) x n` for a tile of `n` columns:
///
/// `unrolled[(c*KH + ky)*KW + kx, j] =
///     input[b, c, oy*stride_h + ky*dilation_h - pad_top,
///                 ox*stride_w + kx*dilation_w - pad_left]`
///
/// for the tile's `j`-th column `(b, oy, ox)`, zero in the padding. Each row piece reads one
/// input row: one slice copy (`stride_w` 1) plus its zero edges.
fn im2col_tile<E: Element>(
    g: &ConvGeometry,
    spans: &Spans,
    input: &[E],
    tile: &Tile,
    unrolled: &mut [E],
) {
    let (n, taps) = (tile.columns.len(), g.kernel_h * g.kernel_w);
    debug_assert_eq!(unrolled.len(), g.taps_per_output() * n);
    for (r, unrolled) in unrolled.chunks_exact_mut(n).enumerate() {
        let (c, ky, kx) = (r / taps, r % taps / g.kernel_w, r % g.kernel_w);
        let (row, col) = (&spans.rows[ky], &spans.cols[kx]);
        for piece in &tile.pieces {
            let unrolled = &mut unrolled[piece.column..][..piece.ox.len()];
            // the columns of this piece whose tap reads inside the input
            let inside = intersect(&col.outputs, &piece.ox);
            if !row.outputs.contains(&piece.oy) || inside.is_empty() {
                unrolled.fill(E::zero());
                continue;
            }
            let (before, after) = (inside.start - piece.ox.start, piece.ox.end - inside.end);
            let len = unrolled.len();
            if before > 0 {
                unrolled[..before].fill(E::zero());
            }
            if after > 0 {
                unrolled[len - after..].fill(E::zero());
            }
            let unrolled = &mut unrolled[before..len - after];
            let y = row.input(piece.oy, g.stride_h);
            let input = &input[g.input_at(piece.entry, c, y, 0)..][..g.in_w];
            let input = &input[col.input(inside.start, g.stride_w)..];
            if g.stride_w == 1 {
                unrolled.copy_from_slice(&input[..unrolled.len()]);
            } else {
                for (u, &x) in unrolled.iter_mut().zip(input.iter().step_by(g.stride_w)) {
                    *u = x;
                }
            }
        }
    }
}

/// Folds (col2im, the reverse of [`im2col_tile`]) the gradient of one unrolled tile back onto
/// the input gradient, adding each element where it was copied from:
///
/// `grad_input[b, c, oy*stride_h + ky*dilation_h - pad_top,
///                  ox*stride_w + kx*dilation_w - pad_left]
///     += grad_unrolled[(c*KH + ky)*KW + kx, j]`
///
/// for the tile's `j`-th column `(b, oy, ox)`, skipping the padding. `grad_input` holds the
/// entries from the one whose first element is at `first` on.
fn col2im_tile<E: Element>(
    g: &ConvGeometry,
    spans: &Spans,
    grad_unrolled: &[E],
    tile: &Tile,
    grad_input: &mut [E],
    first: usize,
) {
    let (n, taps) = (tile.columns.len(), g.kernel_h * g.kernel_w);
    for (r, grad_unrolled) in grad_unrolled.chunks_exact(n).enumerate() {
        let (c, ky, kx) = (r / taps, r % taps / g.kernel_w, r % g.kernel_w);
        let (row, col) = (&spans.rows[ky], &spans.cols[kx]);
        for block in &tile.blocks {
            // the block's rows and columns that this tap reads inside the input
            let (oys, inside) = (
                intersect(&row.outputs, &block.oy),
                intersect(&col.outputs, &block.ox),
            );
            if oys.is_empty() || inside.is_empty() {
                continue;
            }
            let width = block.ox.len();
            let mut from =
                block.column + (oys.start - block.oy.start) * width + inside.start - block.ox.start;
            let (y, x) = (
                row.input(oys.start, g.stride_h),
                col.input(inside.start, g.stride_w),
            );
            let mut to = g.input_at(block.entry, c, y, x) - first;
            for _ in oys {
                let grad_unrolled = &grad_unrolled[from..][..inside.len()];
                if g.stride_w == 1 {
                    // a contiguous add of two slices: vectorised
                    let grad_input = &mut grad_input[to..][..inside.len()];
                    for (gi, &gu) in grad_input.iter_mut().zip(grad_unrolled) {
                        *gi += gu;
                    }
                } else {
                    let grad_input = grad_input[to..].iter_mut().step_by(g.stride_w);
                    for (gi, &gu) in grad_input.zip(grad_unrolled) {
                        *gi += gu;
                    }
                }
                from += width;
                to += g.stride_h * g.in_w;
            }
        }
    }
}

/// Copies the upstream gradient of a tile's output positions into `upstream`, `(O, n)`
/// row-major: `upstream[o, j] = grad_output[b, o, oy, ox]` for the tile's `j`-th column
/// `(b, oy, ox)`.
fn gather_grad_output<E: Element>(
    g: &ConvGeometry,
    grad_output: &[E],
    tile: &Tile,
    upstream: &mut [E],
) {
    let n = tile.columns.len();
    debug_assert_eq!(upstream.len(), g.out_channels * n);
    for seg in &tile.segments {
        for (o, upstream) in upstream.chunks_exact_mut(n).enumerate() {
            let grad_output = &grad_output[g.output_at(seg.entry, o, 0, 0)..][..g.out_plane()];
            upstream[seg.column..][..seg.positions.len()]
                .copy_from_slice(&grad_output[seg.positions.clone()]);
        }
    }
}

/// The overlap of two ranges (empty, possibly with `start > end`, when they do not meet).
fn intersect(a: &Range<usize>, b: &Range<usize>) -> Range<usize> {
    a.start.max(b.start)..a.end.min(b.end)
}

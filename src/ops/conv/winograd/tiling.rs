//! The tiles of F(2x2, 3x3): blocks of whole tile rows, the transforms of input tiles
//! (`Bᵀ d B`), of products (`Aᵀ M A`) and of upstream-gradient tiles (`A dY Aᵀ`), and the
//! forward correlation that ties them to the GEMMs.
//!
//! Each transform takes one row of tiles of one plane at a time and runs along the tiles with
//! the 16 values of a tile in 16 separate runs: every step of the loop over the tiles is the
//! same additions on neighbouring columns, which LLVM vectorises (the columns of a tile are
//! read two apart: stride-2 loads). Each transform is compiled twice, for the baseline and with
//! AVX2 (8 lanes), and runs in the copy of the plan's instruction set: they are a third of the
//! work on 64 channels, where the GEMMs are shortest.

use std::ops::Range;

use super::POINTS;
use crate::memory::Buffer;
use crate::ops::conv::cpu::Isa;
use crate::ops::parallel::for_each_entry_range;
use crate::tensor::{matmul_into, Element, MatRef};

/// The tiling of one correlation in F(2x2, 3x3): `batch` entries of `inputs` planes `src`
/// (`[h, w]`) read with `padding` (`[top, left]`, may be negative) into `outputs` planes `dst`;
/// `dst[y][x]` reads `src[y + ky - top][x + kx - left]` for `ky, kx < 3`, zero outside.
pub(super) struct Tiling {
    pub batch: usize,
    pub inputs: usize,
    pub outputs: usize,
    pub src: [usize; 2],
    pub dst: [usize; 2],
    pub padding: [isize; 2],
    /// Tiles per block, about: rounded up to whole rows of tiles.
    pub block_tiles: usize,
    /// The instruction set the transforms' copies run with.
    pub isa: Isa,
}

impl Tiling {
    /// Tiles down and across a plane: `[ceil(dst_h/2), ceil(dst_w/2)]`.
    pub fn tiles(&self) -> [usize; 2] {
        self.dst.map(|n| n.div_ceil(2))
    }

    /// Tile rows per block: `block_tiles` rounded up to whole rows.
    fn rows_per_block(&self) -> usize {
        self.block_tiles.div_ceil(self.tiles()[1].max(1)).max(1)
    }

    /// The blocks of tile rows (`b * tiles_h + ty`) covering `entries`.
    pub fn blocks(&self, entries: &Range<usize>) -> impl Iterator<Item = Range<usize>> {
        let tiles_h = self.tiles()[0];
        let (first, end) = (entries.start * tiles_h, entries.end * tiles_h);
        let step = self.rows_per_block();
        (first..end)
            .step_by(step)
            .map(move |r| r..(r + step).min(end))
    }

    /// Scratch for a block's `[16][planes][tiles]` of `entries` (a pooled buffer; every kernel
    /// overwrites what it reads).
    pub fn scratch<E: Element>(&self, planes: usize, entries: &Range<usize>) -> Buffer<E> {
        let [tiles_h, tiles_w] = self.tiles();
        let rows = self.rows_per_block().min(entries.len() * tiles_h);
        Buffer::for_overwrite(POINTS * planes * rows * tiles_w)
    }

    /// The correlation of `src` (`[batch][inputs][h][w]`) with the transformed kernels `u`
    /// (`[16][outputs][inputs]`), written (or with `accumulate`, added) into `dst`
    /// (`[batch][outputs][h'][w']`).
    pub fn correlate<E: Element>(
        &self,
        src: &[E],
        u: &[E],
        dst: &mut [E],
        accumulate: bool,
        worth_threads: bool,
    ) {
        let (c, o) = (self.inputs, self.outputs);
        let per_entry = o * self.dst[0] * self.dst[1];
        if dst.is_empty() {
            return;
        }
        if c == 0 || src.is_empty() {
            // an empty sum over input channels, or a source of zeros only
            if !accumulate {
                dst.fill(E::zero());
            }
            return;
        }
        let run = |entries: Range<usize>, dst: &mut [E], single_thread: bool| {
            let (mut v, mut m) = (self.scratch(c, &entries), self.scratch(o, &entries));
            let mut padded = Vec::new();
            for rows in self.blocks(&entries) {
                let tiles = rows.len() * self.tiles()[1];
                let (v, m) = (&mut v[..POINTS * c * tiles], &mut m[..POINTS * o * tiles]);
                self.transform_inputs(src, &rows, v, &mut padded);
                for ((u, v), m) in u
                    .chunks_exact(o * c)
                    .zip(v.chunks_exact(c * tiles))
                    .zip(m.chunks_exact_mut(o * tiles))
                {
                    // M[ξ] = U[ξ] · V[ξ]
                    // (O, C) x (C, T) -> (O, T)
                    let (a, b) = (MatRef::row_major(u, c), MatRef::row_major(v, tiles));
                    matmul_into(o, c, tiles, a, b, m, false, single_thread);
                }
                let first = entries.start * per_entry;
                self.transform_products(m, &rows, dst, first, accumulate);
            }
        };
        for_each_entry_range(self.batch, dst, per_entry, worth_threads, run);
    }

    /// Writes `V = Bᵀ d B` of every tile in the tile rows `rows`, for every input plane, into
    /// `v` (`[16][inputs][tiles]`, a block's tiles in order). `padded` is scratch.
    pub fn transform_inputs<E: Element>(
        &self,
        src: &[E],
        rows: &Range<usize>,
        v: &mut [E],
        padded: &mut Vec<E>,
    ) {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        if self.isa >= Isa::Avx2 && Isa::Avx2.supported() {
            // SAFETY: the copy needs AVX2 and FMA, and the CPU has them: checked on the line
            // above (`Isa::supported` asks the CPU).
            return unsafe { self.transform_inputs_avx2(src, rows, v, padded) };
        }
        self.transform_inputs_in(src, rows, v, padded)
    }

    /// [`transform_inputs`](Self::transform_inputs) compiled with AVX2.
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    #[target_feature(enable = "avx2,fma")]
    fn transform_inputs_avx2<E: Element>(
        &self,
        src: &[E],
        rows: &Range<usize>,
        v: &mut [E],
        padded: &mut Vec<E>,
    ) {
        self.transform_inputs_in(src, rows, v, padded)
    }

    /// The body of [`transform_inputs`](Self::transform_inputs): per input plane, each batch
    /// entry's plane copied once into `padded` with its zero padding (two rows and columns
    /// beyond the last tile's reach), then per tile row three passes over contiguous runs:
    /// `Bᵀ d` of its 4 rows, the even and odd columns of each result, and `(Bᵀ d) B` from those,
    /// 4 runs of `V` at a time.
    #[inline(always)]
    fn transform_inputs_in<E: Element>(
        &self,
        src: &[E],
        rows: &Range<usize>,
        v: &mut [E],
        padded: &mut Vec<E>,
    ) {
        let [tiles_h, tiles_w] = self.tiles();
        let [h, w] = self.src;
        let [top, left] = self.padding;
        let (c, tiles) = (self.inputs, rows.len() * tiles_w);
        // the padded plane: rows -top .. 2*tiles_h + 2 - top, columns -left .. 2*tiles_w + 2 - left
        let (height, width) = (2 * tiles_h + 2, 2 * tiles_w + 2);
        // then the 4 rows of Bᵀ d, and their even and odd columns (tiles_w + 1 each)
        let half = tiles_w + 1;
        padded.clear();
        padded.resize(height * width + 4 * width + 8 * half, E::zero());
        let (plane_buffer, rest) = padded.split_at_mut(height * width);
        let (t, rest) = rest.split_at_mut(4 * width);
        let (even, odd) = rest.split_at_mut(4 * half);
        // the padded columns `x0..x1` hold source columns `x0 - left..x1 - left`, rows `y0..y1`
        // source rows `y0 - top..y1 - top`; the rest stays zero
        let inside = |n: usize, pad: isize, len: usize| {
            let first = (pad.max(0) as usize).min(len);
            (
                first,
                ((n as isize + pad).max(0) as usize).clamp(first, len),
            )
        };
        let (x0, x1) = inside(w, left, width);
        let (y0, y1) = inside(h, top, height);
        for ci in 0..c {
            let mut entry = usize::MAX;
            for (r, row) in rows.clone().enumerate() {
                let (b, ty) = (row / tiles_h, row % tiles_h);
                if b != entry {
                    entry = b;
                    let plane = &src[(b * c + ci) * h * w..][..h * w];
                    for y in y0..y1 {
                        let from = (y as isize - top) as usize * w + (x0 as isize - left) as usize;
                        plane_buffer[y * width + x0..y * width + x1]
                            .copy_from_slice(&plane[from..from + x1 - x0]);
                    }
                }
                // Bᵀ d: rows [d0 - d2, d1 + d2, d2 - d1, d1 - d3]
                let d = &plane_buffer[2 * ty * width..][..4 * width];
                let (d0, d) = d.split_at(width);
                let (d1, d) = d.split_at(width);
                let (d2, d3) = d.split_at(width);
                let (t0, t_rest) = t.split_at_mut(width);
                let (t1, t_rest) = t_rest.split_at_mut(width);
                let (t2, t3) = t_rest.split_at_mut(width);
                for (i, (((t0, t1), t2), t3)) in t0
                    .iter_mut()
                    .zip(t1.iter_mut())
                    .zip(t2.iter_mut())
                    .zip(t3.iter_mut())
                    .enumerate()
                {
                    let (a, b, c2, e) = (d0[i], d1[i], d2[i], d3[i]);
                    (*t0, *t1, *t2, *t3) = (a - c2, b + c2, c2 - b, b - e);
                }
                // the even and odd columns of each
                for ((t, even), odd) in t
                    .chunks_exact(width)
                    .zip(even.chunks_exact_mut(half))
                    .zip(odd.chunks_exact_mut(half))
                {
                    for ((pair, e), o) in t.as_chunks::<2>().0.iter().zip(even).zip(odd) {
                        (*e, *o) = (pair[0], pair[1]);
                    }
                }
                // (Bᵀ d) B for every tile of the row, from columns 2tx, 2tx+1 (e0, o0) and
                // 2tx+2, 2tx+3 (e1, o1): [e0 - e1, o0 + e1, e1 - o0, o0 - o1]
                for (k, (even, odd)) in even
                    .chunks_exact(half)
                    .zip(odd.chunks_exact(half))
                    .enumerate()
                {
                    let at = |l: usize| ((k * 4 + l) * c + ci) * tiles + r * tiles_w;
                    let (v0, v_rest) = v[at(0)..].split_at_mut(at(1) - at(0));
                    let (v1, v_rest) = v_rest.split_at_mut(at(2) - at(1));
                    let (v2, v3) = v_rest.split_at_mut(at(3) - at(2));
                    let (e0, e1) = (&even[..tiles_w], &even[1..]);
                    let (o0, o1) = (&odd[..tiles_w], &odd[1..]);
                    let v = v0[..tiles_w]
                        .iter_mut()
                        .zip(&mut v1[..tiles_w])
                        .zip(&mut v2[..tiles_w])
                        .zip(&mut v3[..tiles_w]);
                    for (i, (((v0, v1), v2), v3)) in v.enumerate() {
                        let (e0, e1, o0, o1) = (e0[i], e1[i], o0[i], o1[i]);
                        (*v0, *v1, *v2, *v3) = (e0 - e1, o0 + e1, e1 - o0, o0 - o1);
                    }
                }
            }
        }
    }

    /// Writes (or with `accumulate`, adds) `Y = Aᵀ M A` of every tile in the tile rows `rows`,
    /// for every output plane, from the products `m` (`[16][outputs][tiles]`) into `dst`, whose
    /// first element is the destination's element `first`.
    pub fn transform_products<E: Element>(
        &self,
        m: &[E],
        rows: &Range<usize>,
        dst: &mut [E],
        first: usize,
        accumulate: bool,
    ) {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        if self.isa >= Isa::Avx2 && Isa::Avx2.supported() {
            // SAFETY: the copy needs AVX2 and FMA, and the CPU has them: checked on the line
            // above (`Isa::supported` asks the CPU).
            return unsafe { self.transform_products_avx2(m, rows, dst, first, accumulate) };
        }
        self.transform_products_in(m, rows, dst, first, accumulate)
    }

    /// [`transform_products`](Self::transform_products) compiled with AVX2.
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    #[target_feature(enable = "avx2,fma")]
    fn transform_products_avx2<E: Element>(
        &self,
        m: &[E],
        rows: &Range<usize>,
        dst: &mut [E],
        first: usize,
        accumulate: bool,
    ) {
        self.transform_products_in(m, rows, dst, first, accumulate)
    }

    /// The body of [`transform_products`](Self::transform_products): per tile row and output
    /// plane, three passes over contiguous runs: `Aᵀ M` (8 runs from 16), `(Aᵀ M) A` (4 runs),
    /// the two columns of each output row interleaved, then the row copied (or added) out.
    #[inline(always)]
    fn transform_products_in<E: Element>(
        &self,
        m: &[E],
        rows: &Range<usize>,
        dst: &mut [E],
        first: usize,
        accumulate: bool,
    ) {
        let [tiles_h, tiles_w] = self.tiles();
        let [h, w] = self.dst;
        let (o, tiles) = (self.outputs, rows.len() * tiles_w);
        // Aᵀ M (2 x 4 runs), then (Aᵀ M) A (2 x 2 runs), then the 2 output rows, 2*tiles_w wide
        let mut s = vec![E::zero(); 8 * tiles_w];
        let mut y = vec![E::zero(); 4 * tiles_w];
        let mut out_rows = vec![E::zero(); 4 * tiles_w];
        for (r, row) in rows.clone().enumerate() {
            let (b, ty) = (row / tiles_h, row % tiles_h);
            for oi in 0..o {
                let run = |xi: usize| &m[(xi * o + oi) * tiles + r * tiles_w..][..tiles_w];
                // Aᵀ M, by column l: [m0 + m1 + m2, m1 - m2 - m3]
                let (s0, s1) = s.split_at_mut(4 * tiles_w);
                for (l, (s0, s1)) in s0
                    .chunks_exact_mut(tiles_w)
                    .zip(s1.chunks_exact_mut(tiles_w))
                    .enumerate()
                {
                    let (m0, m1, m2, m3) = (run(l), run(4 + l), run(8 + l), run(12 + l));
                    for (i, (s0, s1)) in s0.iter_mut().zip(s1.iter_mut()).enumerate() {
                        (*s0, *s1) = (m0[i] + m1[i] + m2[i], m1[i] - m2[i] - m3[i]);
                    }
                }
                // (Aᵀ M) A, by row: [s0 + s1 + s2, s1 - s2 - s3]; interleaved into output rows
                for ((s, y), out) in s
                    .chunks_exact(4 * tiles_w)
                    .zip(y.chunks_exact_mut(2 * tiles_w))
                    .zip(out_rows.chunks_exact_mut(2 * tiles_w))
                {
                    let (s0, s_rest) = s.split_at(tiles_w);
                    let (s1, s_rest) = s_rest.split_at(tiles_w);
                    let (s2, s3) = s_rest.split_at(tiles_w);
                    let (y0, y1) = y.split_at_mut(tiles_w);
                    for (i, (y0, y1)) in y0.iter_mut().zip(y1.iter_mut()).enumerate() {
                        (*y0, *y1) = (s0[i] + s1[i] + s2[i], s1[i] - s2[i] - s3[i]);
                    }
                    let (y0, y1) = y.split_at(tiles_w);
                    for ((pair, &a), &b) in out.as_chunks_mut::<2>().0.iter_mut().zip(y0).zip(y1) {
                        *pair = [a, b];
                    }
                }
                // dst[b, oi, 2ty + i, ..] (=|+=) the output row, cropped to w
                for (i, out) in out_rows.chunks_exact(2 * tiles_w).enumerate() {
                    let yy = 2 * ty + i;
                    if yy >= h {
                        break;
                    }
                    let start = ((b * o + oi) * h + yy) * w - first;
                    let dst = &mut dst[start..][..w];
                    if accumulate {
                        dst.iter_mut().zip(out).for_each(|(d, &v)| *d += v);
                    } else {
                        dst.copy_from_slice(&out[..w]);
                    }
                }
            }
        }
    }

    /// Writes `dM = A dY Aᵀ` of every tile in the tile rows `rows`, for every output plane of
    /// the upstream gradient `grad_output` (`[batch][outputs][h'][w']`, zero past its edges),
    /// into `dm` (`[16][outputs][tiles]`).
    pub fn transform_grad_outputs<E: Element>(
        &self,
        grad_output: &[E],
        rows: &Range<usize>,
        dm: &mut [E],
    ) {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        if self.isa >= Isa::Avx2 && Isa::Avx2.supported() {
            // SAFETY: the copy needs AVX2 and FMA, and the CPU has them: checked on the line
            // above (`Isa::supported` asks the CPU).
            return unsafe { self.transform_grad_outputs_avx2(grad_output, rows, dm) };
        }
        self.transform_grad_outputs_in(grad_output, rows, dm)
    }

    /// [`transform_grad_outputs`](Self::transform_grad_outputs) compiled with AVX2.
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    #[target_feature(enable = "avx2,fma")]
    fn transform_grad_outputs_avx2<E: Element>(
        &self,
        grad_output: &[E],
        rows: &Range<usize>,
        dm: &mut [E],
    ) {
        self.transform_grad_outputs_in(grad_output, rows, dm)
    }

    /// The body of [`transform_grad_outputs`](Self::transform_grad_outputs): per output plane
    /// and tile row, the two rows of the upstream gradient split into even and odd columns
    /// (zero past the edges), `A dY` (4 runs of each), then `(A dY) Aᵀ`, 4 runs of `dM` at a
    /// time.
    #[inline(always)]
    fn transform_grad_outputs_in<E: Element>(
        &self,
        grad_output: &[E],
        rows: &Range<usize>,
        dm: &mut [E],
    ) {
        let [tiles_h, tiles_w] = self.tiles();
        let [h, w] = self.dst;
        let (o, tiles) = (self.outputs, rows.len() * tiles_w);
        // the 2 rows, 2*tiles_w wide (zero past w); their even and odd columns; A dY of those
        let mut gy = vec![E::zero(); 4 * tiles_w];
        let mut columns = vec![E::zero(); 4 * tiles_w];
        let mut ady = vec![E::zero(); 8 * tiles_w];
        for (r, row) in rows.clone().enumerate() {
            let (b, ty) = (row / tiles_h, row % tiles_h);
            for oi in 0..o {
                for (i, gy) in gy.chunks_exact_mut(2 * tiles_w).enumerate() {
                    let yy = 2 * ty + i;
                    if yy < h {
                        let src = &grad_output[((b * o + oi) * h + yy) * w..][..w];
                        gy[..w].copy_from_slice(src);
                        gy[w..].fill(E::zero());
                    } else {
                        gy.fill(E::zero());
                    }
                }
                // even and odd columns: [e0, o0, e1, o1], tiles_w each
                for (gy, columns) in gy
                    .chunks_exact(2 * tiles_w)
                    .zip(columns.chunks_exact_mut(2 * tiles_w))
                {
                    let (even, odd) = columns.split_at_mut(tiles_w);
                    for ((pair, e), od) in gy.as_chunks::<2>().0.iter().zip(even).zip(odd) {
                        (*e, *od) = (pair[0], pair[1]);
                    }
                }
                // A dY, by column (even, then odd): rows [y0, y0 + y1, y0 - y1, -y1]
                let (r0, r1) = columns.split_at(2 * tiles_w);
                for (half, ady) in ady.chunks_exact_mut(4 * tiles_w).enumerate() {
                    let (y0, y1) = (
                        &r0[half * tiles_w..][..tiles_w],
                        &r1[half * tiles_w..][..tiles_w],
                    );
                    let (a0, a_rest) = ady.split_at_mut(tiles_w);
                    let (a1, a_rest) = a_rest.split_at_mut(tiles_w);
                    let (a2, a3) = a_rest.split_at_mut(tiles_w);
                    let a = a0.iter_mut().zip(a1.iter_mut()).zip(a2.iter_mut()).zip(a3);
                    for (i, (((a0, a1), a2), a3)) in a.enumerate() {
                        let (p, q) = (y0[i], y1[i]);
                        (*a0, *a1, *a2, *a3) = (p, p + q, p - q, -q);
                    }
                }
                // (A dY) Aᵀ, by row k from its even e and odd o runs: [e, e + o, e - o, -o]
                let (even, odd) = ady.split_at(4 * tiles_w);
                for k in 0..4 {
                    let (e, od) = (
                        &even[k * tiles_w..][..tiles_w],
                        &odd[k * tiles_w..][..tiles_w],
                    );
                    let at = |l: usize| ((k * 4 + l) * o + oi) * tiles + r * tiles_w;
                    let (v0, v_rest) = dm[at(0)..].split_at_mut(at(1) - at(0));
                    let (v1, v_rest) = v_rest.split_at_mut(at(2) - at(1));
                    let (v2, v3) = v_rest.split_at_mut(at(3) - at(2));
                    let v = v0[..tiles_w]
                        .iter_mut()
                        .zip(&mut v1[..tiles_w])
                        .zip(&mut v2[..tiles_w])
                        .zip(&mut v3[..tiles_w]);
                    for (i, (((v0, v1), v2), v3)) in v.enumerate() {
                        let (p, q) = (e[i], od[i]);
                        (*v0, *v1, *v2, *v3) = (p, p + q, p - q, -q);
                    }
                }
            }
        }
    }
}

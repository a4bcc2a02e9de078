//! Layouts and copies: how the direct kernels see their operands.
//!
//! 1. [`Padded`]: a tensor with its zero padding written out, so every kernel tap of every
//!    output reads inside a buffer and no loop tests a position against the edges (the
//!    blocked kernels of `direct.rs` and the plain loops of `strided.rs` both read these).
//! 2. [`Layout`]: how the blocked kernels see a padded plane as one long row, *wide* (the
//!    plane as it is) or *compact* (one copy per kernel column, cut to the output's width),
//!    and [`Layout::planes`], which builds the micro-kernels' [`Planes`] in either.
//! 3. [`copy_rows`]: the row copy both use, in constant-size pieces.

use std::borrow::Cow;

use super::micro::{Planes, SLACK};
use super::ConvGeometry;
use crate::ops::parallel::for_each_chunk;
use crate::tensor::Element;

/// Elements below which writing out the padding runs in one thread.
const PARALLEL_COPY: usize = 1 << 16;

/// The `[rows, cols]` of each plane of [`Padded::input`].
pub(super) fn padded_input_size(g: &ConvGeometry) -> [usize; 2] {
    // along one axis: the last output's first read, plus its last tap's offset, plus one
    let reach = |out: usize, stride: usize, k: usize, dilation: usize| {
        out.saturating_sub(1) * stride + k.saturating_sub(1) * dilation + 1
    };
    let rows = (g.pad_top + g.in_h).max(reach(g.out_h, g.stride_h, g.kernel_h, g.dilation_h));
    let cols = (g.pad_left + g.in_w).max(reach(g.out_w, g.stride_w, g.kernel_w, g.dilation_w));
    [rows, cols]
}

/// The zero rows above and columns left of [`Padded::grad_output`]'s planes: the kernel's
/// reach, `(KH-1)*dilation_h` and `(KW-1)*dilation_w`.
fn grad_output_corner(g: &ConvGeometry) -> [usize; 2] {
    [
        g.kernel_h.saturating_sub(1) * g.dilation_h,
        g.kernel_w.saturating_sub(1) * g.dilation_w,
    ]
}

/// The `[rows, cols]` of each plane of [`Padded::grad_output`].
pub(super) fn padded_grad_output_size(g: &ConvGeometry) -> [usize; 2] {
    let [top, left] = grad_output_corner(g);
    let spread = |out: usize, stride: usize| out.saturating_sub(1) * stride + 1;
    let rows = (top + spread(g.out_h, g.stride_h)).max(g.in_h + g.pad_top + top);
    let cols = (left + spread(g.out_w, g.stride_w)).max(g.in_w + g.pad_left + left);
    [rows, cols]
}

/// Planes of a tensor with their zero padding written out: `[planes, rows, cols]`, row-major,
/// then `slack` zeros (for kernels that read whole vectors past a plane's last position).
/// When nothing needs padding the data is borrowed, not copied.
pub(super) struct Padded<'a, E: Element> {
    data: Cow<'a, [E]>,
    /// Rows per plane.
    pub rows: usize,
    /// Elements per row.
    pub cols: usize,
}

impl<'a, E: Element> Padded<'a, E> {
    /// The input `[B, C, H, W]` as the forward pass reads it: `pad_top` zero rows above,
    /// `pad_left` zero columns to the left, and zeros past the bottom/right as far as the last
    /// output's last tap reaches.
    pub(super) fn input(g: &ConvGeometry, input: &'a [E], slack: usize) -> Self {
        let size = [g.in_h, g.in_w];
        let corner = [g.pad_top, g.pad_left];
        Padded::new(input, size, corner, [1, 1], padded_input_size(g), slack)
    }

    /// `grad_output` `[B, O, OH, OW]` as the input's gradient reads it: `(KH-1)*dilation_h`
    /// zero rows above, `(KW-1)*dilation_w` zero columns to the left, `stride_h-1` zero rows
    /// between its rows and `stride_w-1` zero columns between its columns, and zeros past the
    /// bottom/right as far as the last input's last tap reaches.
    pub(super) fn grad_output(g: &ConvGeometry, grad_output: &'a [E], slack: usize) -> Self {
        let size = [g.out_h, g.out_w];
        let corner = grad_output_corner(g);
        let steps = [g.stride_h, g.stride_w];
        let padded = padded_grad_output_size(g);
        Padded::new(grad_output, size, corner, steps, padded, slack)
    }

    /// Copies each `h x w` plane of `src` into a zero `rows x cols` plane, element `(y, x)` to
    /// `(top + y*step_y, left + x*step_x)`, and `slack` zeros after the last plane.
    pub(super) fn new(
        src: &'a [E],
        [h, w]: [usize; 2],
        [top, left]: [usize; 2],
        [step_y, step_x]: [usize; 2],
        [rows, cols]: [usize; 2],
        slack: usize,
    ) -> Self {
        // a step only spreads an axis with more than one element
        let spread = (step_y > 1 && h > 1) || (step_x > 1 && w > 1);
        let same = top == 0 && left == 0 && !spread && [rows, cols] == [h, w];
        if same && slack == 0 {
            let data = Cow::Borrowed(src);
            return Padded { data, rows, cols };
        }
        let planes = src.len().checked_div(h * w).unwrap_or(0);
        let mut data = vec![E::zero(); planes * rows * cols + slack];
        if planes > 0 {
            let parallel = data.len() >= PARALLEL_COPY && rayon::current_num_threads() > 1;
            for_each_chunk(
                &mut data[..planes * rows * cols],
                rows * cols,
                parallel,
                |_: &mut (), (plane, dst)| {
                    let src = &src[plane * h * w..][..h * w];
                    for (y, src) in src.chunks_exact(w).enumerate() {
                        let dst = &mut dst[(top + y * step_y) * cols + left..];
                        if step_x == 1 {
                            dst[..w].copy_from_slice(src); // a memcpy
                        } else {
                            dst.iter_mut()
                                .step_by(step_x)
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
    pub(super) fn plane(&self, plane: usize) -> &[E] {
        &self.data[plane * self.rows * self.cols..][..self.rows * self.cols]
    }

    /// Everything from plane `first` on: its planes, then the slack.
    #[inline(always)]
    pub(super) fn planes_from(&self, first: usize) -> &[E] {
        &self.data[first * self.rows * self.cols..]
    }

    /// Row `y` of plane `plane`.
    #[inline(always)]
    pub(super) fn row(&self, plane: usize, y: usize) -> &[E] {
        &self.data[(plane * self.rows + y) * self.cols..][..self.cols]
    }
}

/// Copies `rows` rows of `len` elements, row `r` from `src[r*src_step..]` to
/// `dst[r*dst_step..]`, in order, where `dst_step == len` (the rows are contiguous).
///
/// A row shorter than a few vectors copied with `copy_from_slice` is a call to `memcpy` (its
/// length is not a constant), which costs more than the copy: building the compact planes
/// for `x=[64,6,12,12] w=[16,6,5,5]` is 360 rows of 8 per batch entry. So each row but the
/// last goes in whole [`PIECE`]-long pieces of constant size, the last piece running on into
/// the next row's place, which the next row then overwrites. The last row is copied exactly,
/// as is any row whose pieces would read past `src`.
pub(super) fn copy_rows<E: Copy>(
    dst: &mut [E],
    src: &[E],
    src_step: usize,
    rows: usize,
    len: usize,
) {
    let pieces = len.div_ceil(PIECE) * PIECE;
    for r in 0..rows {
        let (dst, src) = (&mut dst[r * len..], &src[r * src_step..]);
        if r + 1 < rows && src.len() >= pieces && dst.len() >= pieces {
            for (d, s) in dst[..pieces]
                .as_chunks_mut::<PIECE>()
                .0
                .iter_mut()
                .zip(src[..pieces].as_chunks::<PIECE>().0)
            {
                *d = *s;
            }
        } else {
            dst[..len].copy_from_slice(&src[..len]);
        }
    }
}

/// Elements [`copy_rows`] copies at a time: a constant length, so each piece is a few vector
/// moves, not a call to `memcpy`.
const PIECE: usize = 16;

/// How a blocked kernel lays out the planes it correlates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// The padded planes as they are, rows `width` long: output `(y, x)` at `y*width + x`.
    /// Free, but the `width - out_w` positions past each row's end are computed and thrown
    /// away.
    Wide,
    /// One copy of each plane per kernel column `kx`, cut to the output's width and shifted by
    /// `kx*dilation_w`: output `(y, x)` at `y*out_w + x`, nothing thrown away. Costs `KW` copies
    /// of the input, small next to the `KH*KW*O` multiply-adds each input element feeds.
    Compact,
}

impl Layout {
    /// Compact when wide would throw away more than 1/8 of the work (a 12x12 input under a
    /// 5x5 kernel: 4 of every 12 positions), else wide.
    pub(super) fn choose(width: usize, out_w: usize) -> Layout {
        if (width - out_w) * 8 > width {
            Layout::Compact
        } else {
            Layout::Wide
        }
    }

    /// Elements between output rows, for padded planes `cols` wide and results `out_w` wide:
    /// where output `(y, x)` lies is `y*row + x`.
    pub(super) fn row(self, cols: usize, out_w: usize) -> usize {
        match self {
            Layout::Wide => cols,
            Layout::Compact => out_w,
        }
    }

    /// Positions a kernel computes for an `out_h x out_w` result whose rows start `row` apart
    /// ([`row`](Self::row)): every row but the last `row` long, the last `out_w` (none for an
    /// empty result).
    pub(super) fn positions(row: usize, [out_h, out_w]: [usize; 2]) -> usize {
        if out_h == 0 || out_w == 0 {
            return 0;
        }
        (out_h - 1) * row + out_w
    }

    /// The planes `first..first + count` of `src` for the micro-kernels, read from `corner` (the
    /// padded element that lines up with output `(0, 0)`) for an `out_h x out_w` result.
    /// `Compact` writes its copies into `scratch`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn planes<'a, E: Element>(
        self,
        g: &ConvGeometry,
        src: &'a Padded<'_, E>,
        [first, count]: [usize; 2],
        [top, left]: [usize; 2],
        [out_h, out_w]: [usize; 2],
        scratch: &'a mut Vec<E>,
    ) -> Planes<'a, E> {
        let (kh, kw, dh, dw) = (g.kernel_h, g.kernel_w, g.dilation_h, g.dilation_w);
        let plane = src.rows * src.cols;
        match self {
            Layout::Wide => {
                let corner = top * src.cols + left;
                let n = Layout::positions(src.cols, [out_h, out_w]);
                let last_tap = (kh - 1) * dh * src.cols + (kw - 1) * dw;
                let mut data = src.planes_from(first);
                if data.len() < corner + (count - 1) * plane + n + last_tap + SLACK {
                    // the last batch entry, whose last block of positions would read past the
                    // tensor: read a copy of its planes, with zeros after them
                    scratch.clear();
                    scratch.extend_from_slice(&data[..count * plane]);
                    scratch.resize(count * plane + SLACK, E::zero());
                    data = scratch;
                }
                Planes {
                    src: &data[corner..],
                    plane,
                    planes: count,
                    row_step: src.cols * dh,
                    col_step: dw,
                    n,
                    kh,
                    kw,
                }
            }
            Layout::Compact => {
                // copy[i][kx][y][x] = src[first + i][top + y][left + x + kx*dilation_w]
                let rows = out_h + (kh - 1) * dh;
                let copy = rows * out_w;
                scratch.clear();
                scratch.resize(count * kw * copy + SLACK, E::zero());
                let (data, cols) = (src.planes_from(first), src.cols);
                for i in 0..count {
                    for kx in 0..kw {
                        let dst = &mut scratch[(i * kw + kx) * copy..];
                        let src = &data[i * plane + top * src.cols + left + kx * dw..];
                        copy_rows(dst, src, cols, rows, out_w);
                    }
                }
                Planes {
                    src: scratch,
                    plane: kw * copy,
                    planes: count,
                    row_step: out_w * dh,
                    col_step: copy,
                    n: Layout::positions(out_w, [out_h, out_w]),
                    kh,
                    kw,
                }
            }
        }
    }
}

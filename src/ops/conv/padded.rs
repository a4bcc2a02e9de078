//! Tensors with their zero padding written out, shared by the kernels that read shifted views
//! of a plane (`direct`, `blocked`): with the padding in memory, every kernel tap of every
//! output reads inside a buffer, and no loop tests a position against the edges. Also the two
//! ways the kernels split a batch across rayon's threads.

use std::borrow::Cow;
use std::ops::Range;

use rayon::prelude::*;

use super::ConvGeometry;
use crate::memory::Buffer;
use crate::tensor::Element;

/// Elements below which writing out the padding runs in one thread.
const PARALLEL_COPY: usize = 1 << 16;

/// Runs `body` on each `(index, chunk)` of `data` cut into `chunk`-long pieces, each call with
/// a scratch value of its task: one rayon task per chunk when `parallel`, else all in this
/// thread. Handing work to the pool costs some 10-40 µs (measured), more than a small
/// convolution takes, so small ones stay on the caller's thread.
pub(super) fn for_each_chunk<E: Send, S: Default>(
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

/// Adds into `sum` what `run(entries, partial)` adds into a zeroed `partial` of `sum`'s length,
/// over the whole batch of `batch` entries: one rayon task per thread, each over its own run of
/// consecutive entries and its own (pooled) buffer, the buffers added at the end. For the
/// weight's gradient, a sum over the batch that the tasks cannot write into one buffer.
pub(super) fn add_per_thread_sums<E: Element>(
    batch: usize,
    sum: &mut [E],
    run: impl Fn(Range<usize>, &mut [E]) + Sync,
) {
    if batch == 0 {
        return;
    }
    let per_task = batch.div_ceil(rayon::current_num_threads());
    let len = sum.len();
    let zeros = || Buffer::<E>::zeroed(len);
    let total = (0..batch.div_ceil(per_task))
        .into_par_iter()
        .map(|task| {
            let mut partial = zeros();
            run(
                task * per_task..((task + 1) * per_task).min(batch),
                &mut partial,
            );
            partial
        })
        .reduce(zeros, |mut a, b| {
            a.iter_mut().zip(b.iter()).for_each(|(a, &b)| *a += b);
            a
        });
    sum.iter_mut().zip(total.iter()).for_each(|(s, &t)| *s += t);
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
        // along one axis: the last output's first read, plus its last tap's offset, plus one
        let reach = |out: usize, stride: usize, k: usize, dilation: usize| {
            out.saturating_sub(1) * stride + k.saturating_sub(1) * dilation + 1
        };
        let rows = (g.pad_top + g.in_h).max(reach(g.out_h, g.stride_h, g.kernel_h, g.dilation_h));
        let cols = (g.pad_left + g.in_w).max(reach(g.out_w, g.stride_w, g.kernel_w, g.dilation_w));
        let size = [g.in_h, g.in_w];
        Padded::new(
            input,
            size,
            [g.pad_top, g.pad_left],
            [1, 1],
            [rows, cols],
            slack,
        )
    }

    /// `grad_output` `[B, O, OH, OW]` as [`grad_input`] reads it: `(KH-1)*dilation_h` zero rows
    /// above, `(KW-1)*dilation_w` zero columns to the left, `stride_h-1` zero rows between its
    /// rows and `stride_w-1` zero columns between its columns, and zeros past the bottom/right
    /// as far as the last input's last tap reaches.
    pub(super) fn grad_output(g: &ConvGeometry, grad_output: &'a [E], slack: usize) -> Self {
        let top = g.kernel_h.saturating_sub(1) * g.dilation_h;
        let left = g.kernel_w.saturating_sub(1) * g.dilation_w;
        let spread = |out: usize, stride: usize| out.saturating_sub(1) * stride + 1;
        let rows = (top + spread(g.out_h, g.stride_h)).max(g.in_h + g.pad_top + top);
        let cols = (left + spread(g.out_w, g.stride_w)).max(g.in_w + g.pad_left + left);
        let size = [g.out_h, g.out_w];
        Padded::new(
            grad_output,
            size,
            [top, left],
            [g.stride_h, g.stride_w],
            [rows, cols],
            slack,
        )
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

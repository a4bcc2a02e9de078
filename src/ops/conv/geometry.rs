//! The run-time description of one convolution: sizes, stride, padding, dilation.
//!
//! Conv1d is a conv2d with `in_h = kernel_h = out_h = 1`, `pad_top = 0` and
//! `stride_h = dilation_h = 1`, so both share every kernel. Padding is given at the top and
//! left; the bottom and right padding follow from the output size (PyTorch pads both sides
//! equally; the teaching convention pads only the right/bottom, by `K - 1`).

use std::ops::Range;

/// Sizes and hyper-parameters of a 2-D convolution over `[batch, in_channels, in_h, in_w]`
/// with a weight `[out_channels, in_channels, kernel_h, kernel_w]`, giving
/// `[batch, out_channels, out_h, out_w]`:
///
/// `output[b, o, oy, ox] = sum_{c, ky, kx} weight[o, c, ky, kx]
///     * input[b, c, oy*stride_h + ky*dilation_h - pad_top,
///                   ox*stride_w + kx*dilation_w - pad_left]`
///
/// with input values outside `0..in_h`, `0..in_w` read as zero. Stride, padding and dilation
/// each have a value per axis, like PyTorch's tuples (`stride=(1, 2)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    /// B: the batch size.
    pub batch: usize,
    /// C: input channels.
    pub in_channels: usize,
    /// O: output channels.
    pub out_channels: usize,
    /// Input height (1 for conv1d).
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Kernel height (1 for conv1d).
    pub kernel_h: usize,
    /// Kernel width.
    pub kernel_w: usize,
    /// Output height (1 for conv1d).
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
    /// Step between output rows, in input rows (1 for conv1d).
    pub stride_h: usize,
    /// Step between output columns, in input columns.
    pub stride_w: usize,
    /// Zero rows above the input.
    pub pad_top: usize,
    /// Zero columns left of the input.
    pub pad_left: usize,
    /// Step between kernel rows, in input rows (1 for conv1d).
    pub dilation_h: usize,
    /// Step between kernel columns, in input columns.
    pub dilation_w: usize,
}

impl ConvGeometry {
    /// PyTorch's output size along one axis: `(n + 2*padding - dilation*(k-1) - 1) / stride + 1`,
    /// or `None` when the dilated kernel is larger than the padded input or stride is zero.
    pub fn out_size(
        n: usize,
        k: usize,
        stride: usize,
        padding: usize,
        dilation: usize,
    ) -> Option<usize> {
        let span = dilation * (k.max(1) - 1) + 1;
        let padded = n + 2 * padding;
        if stride == 0 || span > padded {
            return None;
        }
        Some((padded - span) / stride + 1)
    }

    /// Elements in the input `[B, C, H, W]`.
    pub fn input_len(&self) -> usize {
        checked_len(
            "input",
            &[self.batch, self.in_channels, self.in_h, self.in_w],
        )
    }

    /// Elements in the weight `[O, C, KH, KW]`.
    pub fn weight_len(&self) -> usize {
        checked_len(
            "weight",
            &[
                self.out_channels,
                self.in_channels,
                self.kernel_h,
                self.kernel_w,
            ],
        )
    }

    /// Elements in the output `[B, O, OH, OW]`.
    pub fn output_len(&self) -> usize {
        checked_len(
            "output",
            &[self.batch, self.out_channels, self.out_h, self.out_w],
        )
    }

    /// Whether this convolution has enough work to pay for rayon's threads: handing work to
    /// the pool costs some 10-40 µs (measured), so below 2^20 multiply-adds (about 40 µs on
    /// one core) one thread finishes first.
    pub fn worth_threads(&self) -> bool {
        rayon::current_num_threads() > 1 && self.macs() >= 1 << 20
    }

    /// Whether the stride is 1 along both axes: every output position reads the input
    /// positions next to its neighbours' (the register-blocked kernels need this).
    pub fn unit_stride(&self) -> bool {
        self.stride_h == 1 && self.stride_w == 1
    }

    /// Multiply-adds of one forward pass (`B·O·OH·OW·C·KH·KW`); FLOPs are twice this.
    /// Saturates at `usize::MAX` (it only picks an algorithm).
    pub fn macs(&self) -> usize {
        [self.in_channels, self.kernel_h, self.kernel_w]
            .iter()
            .fold(self.output_len(), |n, &d| n.saturating_mul(d))
    }

    /// Elements in one input plane (`H·W`).
    pub fn in_plane(&self) -> usize {
        self.in_h * self.in_w
    }

    /// Elements in one output plane (`OH·OW`), the `L` of the unrolled matrix.
    pub fn out_plane(&self) -> usize {
        self.out_h * self.out_w
    }

    /// Weights per output channel (`C·KH·KW`), the rows of the unrolled matrix.
    pub fn taps_per_output(&self) -> usize {
        self.in_channels * self.kernel_h * self.kernel_w
    }

    /// Offset of `input[b, c, y, x]` in the row-major `[B, C, H, W]` input.
    #[inline(always)]
    pub fn input_at(&self, b: usize, c: usize, y: usize, x: usize) -> usize {
        ((b * self.in_channels + c) * self.in_h + y) * self.in_w + x
    }

    /// Offset of `weight[o, c, ky, kx]` in the row-major `[O, C, KH, KW]` weight.
    #[inline(always)]
    pub fn weight_at(&self, o: usize, c: usize, ky: usize, kx: usize) -> usize {
        ((o * self.in_channels + c) * self.kernel_h + ky) * self.kernel_w + kx
    }

    /// Offset of `output[b, o, oy, ox]` in the row-major `[B, O, OH, OW]` output.
    #[inline(always)]
    pub fn output_at(&self, b: usize, o: usize, oy: usize, ox: usize) -> usize {
        ((b * self.out_channels + o) * self.out_h + oy) * self.out_w + ox
    }

    /// The input row read by output row `oy` at kernel row `ky`:
    /// `oy*stride_h + ky*dilation_h - pad_top`, or `None` in the padding.
    #[inline(always)]
    pub fn input_y(&self, oy: usize, ky: usize) -> Option<usize> {
        (oy * self.stride_h + ky * self.dilation_h)
            .checked_sub(self.pad_top)
            .filter(|&y| y < self.in_h)
    }

    /// The input column read by output column `ox` at kernel column `kx`:
    /// `ox*stride_w + kx*dilation_w - pad_left`, or `None` in the padding.
    #[inline(always)]
    pub fn input_x(&self, ox: usize, kx: usize) -> Option<usize> {
        (ox * self.stride_w + kx * self.dilation_w)
            .checked_sub(self.pad_left)
            .filter(|&x| x < self.in_w)
    }

    /// For every kernel row `ky`: the output rows whose read lands inside the input, and the
    /// input row the first of them reads. Kernels compute these once per call and then loop
    /// over ranges, with no test against the padding per position.
    pub(crate) fn row_spans(&self) -> Vec<TapSpan> {
        (0..self.kernel_h)
            .map(|ky| {
                let offset = ky * self.dilation_h;
                TapSpan::new(self.in_h, self.out_h, self.stride_h, self.pad_top, offset)
            })
            .collect()
    }

    /// For every kernel column `kx`: the output columns whose read lands inside the input, and
    /// the input column the first of them reads (see [`row_spans`](Self::row_spans)).
    pub(crate) fn col_spans(&self) -> Vec<TapSpan> {
        (0..self.kernel_w)
            .map(|kx| {
                let offset = kx * self.dilation_w;
                TapSpan::new(self.in_w, self.out_w, self.stride_w, self.pad_left, offset)
            })
            .collect()
    }

    /// Panics unless the slices have the lengths this geometry needs and every stride and
    /// dilation is at least 1 (a bug in the caller: the typed API computes these).
    pub fn check(&self, kernel: &str, input: usize, weight: usize, output: usize) {
        let (stride, dilation) = (
            [self.stride_h, self.stride_w],
            [self.dilation_h, self.dilation_w],
        );
        assert!(
            stride.iter().chain(&dilation).all(|&s| s >= 1),
            "{kernel}: stride {stride:?} and dilation {dilation:?} ([height, width]) must be at \
             least 1"
        );
        for (what, expected, found) in [
            ("input", self.input_len(), input),
            ("weight", self.weight_len(), weight),
            ("output", self.output_len(), output),
        ] {
            assert_eq!(
                expected, found,
                "{kernel}: {what} needs {expected} elements for {self:?}, found {found}"
            );
        }
    }
}

/// The product of `dims`, or a panic naming the tensor when it overflows `usize` (a geometry
/// no tensor can have; the typed API never builds one).
fn checked_len(what: &str, dims: &[usize]) -> usize {
    dims.iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .unwrap_or_else(|| panic!("convolution: the {what} sizes {dims:?} overflow usize"))
}

/// One kernel tap along one axis (a kernel row or column): the output positions whose read
/// `o*stride + k*dilation - pad` lands inside the input (with that axis's stride, dilation and
/// padding), and the input position the first of them reads; the next ones read `stride`
/// further on each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TapSpan {
    /// Output positions that read inside the input (empty when the tap only sees padding).
    pub outputs: Range<usize>,
    /// The input position read by `outputs.start` (0 when `outputs` is empty).
    pub first_input: usize,
}

impl TapSpan {
    /// The span of the tap at `offset` (`k*dilation`) over an input of length `n` with `out`
    /// outputs: the `o` in `0..out` with `0 <= o*stride + offset - pad < n`.
    fn new(n: usize, out: usize, stride: usize, pad: usize, offset: usize) -> TapSpan {
        // o*stride >= pad - offset  <=>  o >= ceil((pad - offset) / stride)
        let first = pad.saturating_sub(offset).div_ceil(stride);
        // o*stride < n + pad - offset  <=>  o < ceil((n + pad - offset) / stride)
        let end = (n + pad).saturating_sub(offset).div_ceil(stride).min(out);
        let outputs = first.min(end)..end;
        // >= 0 by the first bound; 0 when the span is empty, so slicing at it is always valid.
        let first_input = if outputs.is_empty() {
            0
        } else {
            outputs.start * stride + offset - pad
        };
        TapSpan {
            outputs,
            first_input,
        }
    }

    /// The input position read by output `o` (which must lie in `outputs`), for the `stride`
    /// of the span's axis.
    #[inline(always)]
    pub fn input(&self, o: usize, stride: usize) -> usize {
        self.first_input + (o - self.outputs.start) * stride
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_size_follows_pytorch() {
        assert_eq!(ConvGeometry::out_size(28, 5, 1, 0, 1), Some(24));
        assert_eq!(ConvGeometry::out_size(11, 4, 2, 1, 1), Some(5)); // (11 + 2 - 3 - 1)/2 + 1
        assert_eq!(ConvGeometry::out_size(10, 3, 1, 0, 2), Some(6)); // span 5
        assert_eq!(ConvGeometry::out_size(3, 5, 1, 0, 1), None);
        assert_eq!(ConvGeometry::out_size(3, 5, 1, 1, 1), Some(1));
        assert_eq!(ConvGeometry::out_size(8, 3, 0, 0, 1), None);
    }

    #[test]
    fn tap_ranges_match_the_per_position_test() {
        let cases: [(usize, usize, usize, usize, usize); 5] = [
            (6, 6, 1, 0, 2),  // teaching convention: the last 2 outputs read past the end
            (5, 3, 2, 2, 0),  // padding 2 on the left: output 0 reads -2, output 1 reads 0
            (7, 4, 3, 1, 4),  // stride 3, dilated tap
            (3, 9, 1, 5, 0),  // padding larger than the input
            (2, 4, 2, 0, 10), // tap beyond the input: empty
        ];
        for (n, out, stride, pad, offset) in cases {
            let expected: Vec<usize> = (0..out)
                .filter(|o| {
                    (o * stride + offset)
                        .checked_sub(pad)
                        .is_some_and(|i| i < n)
                })
                .collect();
            let span = TapSpan::new(n, out, stride, pad, offset);
            assert_eq!(
                span.outputs.clone().collect::<Vec<_>>(),
                expected,
                "n {n} out {out}"
            );
            assert!(span.first_input <= n);
            for o in span.outputs.clone() {
                assert_eq!(span.input(o, stride) + pad, o * stride + offset);
            }
        }
    }
}

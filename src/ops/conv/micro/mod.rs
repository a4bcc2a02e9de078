//! Micro-kernels: the register-blocked inner loops of the direct kernels (`direct.rs`) for
//! stride-1 convolution (stride 1 along both axes; the dilation may differ between them),
//! written so that a block of results stays in vector registers while every channel and kernel
//! tap is added into it; this file holds their generic copies (the baseline, and AVX-512).
//!
//! They see a padded plane as one long row: output `(y, x)` is position `p = y*row + x`, and
//! kernel tap `(ky, kx)` reads each input plane at `p + ky*row_step + kx*col_step`. Two
//! layouts give that form ([`Layout`](super::layout::Layout)): *wide*, the padded planes as
//! they are (`row` = the padded width; the positions past each output row's end are computed
//! and thrown away), and *compact*, one copy of each plane per kernel column cut to the
//! output's width (nothing thrown away; used when wide would waste more than 1/8 of the work).
//!
//! 1. [`correlate`]: `J` output planes at a time,
//!    `out[j][p] = sum_{i, ky, kx} weight[j, i, ky, kx] * src[i][p + ky*row_step + kx*col_step]`.
//!    The forward pass (`j` = output channel, `i` = input channel) and the gradient of the
//!    input (`j` = input channel, `i` = output channel, the kernel reversed) are both this.
//! 2. [`correlate_weights`]: the gradient of the weight,
//!    `grad[o, t] += sum_p grad_out[o][p] * x_t[p]` for taps `t = (c, ky, kx)`, vectorised
//!    over positions (4 channels by 5 taps at a time); [`correlate_weights_by_channel`], the
//!    same vectorised over output channels, when there are enough of them to fill a vector.
//!
//! Why they are fast:
//! - a block of up to 24 vectors of sums stays in registers (of the 32 AVX-512 has) over all
//!   channels and taps, then is stored once; each loaded vector feeds several multiply-adds
//!   (a plain `y += w * x` over the plane loads and stores `y` for each multiply-add);
//! - every loop bound inside a block is a constant (`J`, `V`, `LANES`, and with
//!   [`Taps::Fixed`] the kernel size too), so LLVM unrolls them and keeps the block in
//!   registers. LLVM (Rust
//!   1.95) does this up to 4 output planes by 6 vectors; past that (6 x 4, 1 x 8, 4 x 6 by
//!   channel) it keeps the sums in memory and runs 10x slower (measured), so no larger block
//!   is offered;
//! - each kernel is compiled twice, for the target's baseline and with AVX-512 enabled
//!   (16 f32 per register, fused multiply-add), and the plan picks the copy ([`Isa`]).
//!
//! The plan ([`ConvPlan`](super::ConvPlan)) decides everything a kernel could choose: the
//! register blocking ([`Blocking`]) and whether the kernel size is a constant ([`Taps`]).
//!
//! [`correlate`] computes the last block of positions whole: it reads up to [`SLACK`]
//! elements past the last plane's last position, and callers pad their buffers by that much.

mod avx2;
mod correlate;
mod weights;

pub(super) use avx2::Avx2Kernels;
pub(super) use correlate::{correlate, PackedWeights, Planes};
pub(super) use weights::{
    channel_block_width, correlate_weights, correlate_weights_by_channel, ChannelOperands,
    WeightOperands,
};

use super::cpu::Isa;
use crate::tensor::Element;

/// Results per vector: 16 f32 fill one AVX-512 register (16 f64 fill two).
pub(crate) const LANES: usize = 16;

/// Elements a caller leaves readable (zeros) after the last plane: a block of positions is at
/// most `6 * LANES` long, and the last block of a plane is computed whole.
pub(crate) const SLACK: usize = 6 * LANES;

/// How many sums a micro-kernel keeps in registers, in vectors of its [`Isa`]'s lanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocking {
    /// [`correlate`]: `planes` output planes by `vectors` vectors of positions.
    Planes {
        /// Output planes per block (`J`).
        planes: usize,
        /// Vectors of positions per block (`V`).
        vectors: usize,
    },
    /// [`correlate_weights`], vectorised over positions: `channels` output channels by `taps`
    /// taps, each sum a vector of partial sums.
    ByPosition {
        /// Output channels per block.
        channels: usize,
        /// Taps per block.
        taps: usize,
    },
    /// [`correlate_weights_by_channel`], vectorised over output channels: `vectors` vectors of
    /// channels by `taps` taps.
    ByChannel {
        /// Vectors of output channels per block (`V`).
        vectors: usize,
        /// Taps per block (`T`).
        taps: usize,
    },
}

impl Blocking {
    /// The blocking of [`correlate`] for `outputs` output planes of `positions` positions:
    /// blocks of 4 output planes (the last one padded with zeros), or of the count when it is
    /// 1, 2 or 3, or of 3 for 6 or 9.
    ///
    /// - AVX-512 and the baseline (16 lanes): by 6 vectors, or for 4 planes by 4 or 6,
    ///   whichever wastes fewer positions past the last (a 124-long conv1d row: 128 vs 192).
    ///   At most 24 of AVX-512's 32 registers: LLVM (1.95) keeps larger blocks (6 x 4, 1 x 8)
    ///   in memory instead of registers, 10x slower (measured).
    /// - AVX2 (8 lanes, 16 registers): the `J` broadcast weights, one vector of the input and
    ///   the sums must fit in 16 registers: 1 x 12, 2 x 6, 3 x 4 and 4 x 2 (4 x 3 spills a sum
    ///   to the stack: 30 against 51-56 GFLOP/s on 32- and 64-channel 3x3 convolutions; against
    ///   2 x 6, 4 x 2 was as fast on 32x32 planes and faster on 16x16 to 4x4, 1.3-1.7x, one
    ///   thread, a loaded machine).
    pub(super) fn planes(isa: Isa, outputs: usize, positions: usize) -> Blocking {
        let planes = match outputs {
            // no output plane: a plan never run (the plan returns before any kernel)
            0 => 1,
            1..=3 => outputs,
            6 | 9 => 3,
            _ => 4,
        };
        let vectors = match (isa, planes) {
            (Isa::Avx2, 4) => 2,
            (Isa::Avx2, planes) => 12 / planes,
            (_, 4) if positions.div_ceil(4 * LANES) * 4 < positions.div_ceil(6 * LANES) * 6 => 4,
            _ => 6,
        };
        Blocking::Planes { planes, vectors }
    }

    /// The blocking of the weight's gradient for `outputs` output channels: by channel when
    /// they fill at least 3/4 of a vector's lanes, else by position.
    ///
    /// - AVX-512 and the baseline: by channel one vector of channels by 12 taps, or two by 8
    ///   (LLVM keeps 4 x 6 in memory, 10x slower); by position 4 channels by 5 taps (their 20
    ///   sums and the 9 vectors they read fill 29 of AVX-512's 32 registers).
    /// - AVX2: by channel one vector by 12 taps or two by 6 (12 sums, the vectors of channels
    ///   and a broadcast); by position 3 channels by 3 taps (9 sums and the 6 vectors they
    ///   read).
    pub(super) fn weights(isa: Isa, outputs: usize) -> Blocking {
        if isa == Isa::Avx2 {
            let lanes = avx2::AVX2_LANES;
            return if outputs.is_multiple_of(lanes) || outputs % lanes >= 6 {
                let vectors = outputs.div_ceil(lanes).clamp(1, 2);
                Blocking::ByChannel {
                    vectors,
                    taps: 12 / vectors,
                }
            } else {
                Blocking::ByPosition {
                    channels: 3,
                    taps: 3,
                }
            };
        }
        if outputs.is_multiple_of(LANES) || outputs % LANES >= 12 {
            match outputs.div_ceil(LANES) {
                1 => Blocking::ByChannel {
                    vectors: 1,
                    taps: 12,
                },
                _ => Blocking::ByChannel {
                    vectors: 2,
                    taps: 8,
                },
            }
        } else {
            Blocking::ByPosition {
                channels: weights::WEIGHT_J,
                taps: weights::WEIGHT_T,
            }
        }
    }
}

/// How the loops over a kernel's taps get their bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Taps {
    /// From the type: a copy of the kernel compiled for this kernel size, whose tap loops
    /// LLVM unrolls (1x1, 3x3, 5x5, 7x7 and conv1d's 1x3, 1x5, 1x7, in f32 with AVX2 or
    /// AVX-512).
    Fixed,
    /// From a run-time value: one copy for every size.
    RunTime,
}

impl Taps {
    /// The kernel sizes with a compile-time copy.
    pub const FIXED_SIZES: [[usize; 2]; 7] =
        [[1, 1], [3, 3], [5, 5], [7, 7], [1, 3], [1, 5], [1, 7]];

    /// `Fixed` when `allowed` and the copies for `isa` include `[kh, kw]`. Measured
    /// (`--kernels`, 1 thread, forward and grad-input): 1x1 +55%, 3x3 +10% to +36%, 5x5 0 to
    /// +10%, 7x7 +3 to +7%, conv1d 1x5 +8% (AVX-512); they cost 12 s of CPU time in a clean
    /// release build, so only the copies that run have them (f32; AVX2, AVX-512).
    pub(super) fn new(isa: Isa, size: [usize; 2], allowed: bool) -> Taps {
        let copies = matches!(isa, Isa::Avx2 | Isa::Avx512);
        if allowed && copies && Taps::FIXED_SIZES.contains(&size) {
            Taps::Fixed
        } else {
            Taps::RunTime
        }
    }
}

/// The kernel size as the tap loops see it: [`Fixed`] (a compile-time constant: LLVM unrolls
/// the loops over the taps) or [`Any`] (a run-time value).
pub(crate) trait KernelSize: Copy {
    /// Kernel height.
    fn kh(self) -> usize;
    /// Kernel width.
    fn kw(self) -> usize;
}

/// A kernel size known at compile time.
#[derive(Clone, Copy)]
pub(crate) struct Fixed<const KH: usize, const KW: usize>;

impl<const KH: usize, const KW: usize> KernelSize for Fixed<KH, KW> {
    #[inline(always)]
    fn kh(self) -> usize {
        KH
    }
    #[inline(always)]
    fn kw(self) -> usize {
        KW
    }
}

/// A kernel size known at run time.
#[derive(Clone, Copy)]
pub(crate) struct Any {
    pub kh: usize,
    pub kw: usize,
}

impl KernelSize for Any {
    #[inline(always)]
    fn kh(self) -> usize {
        self.kh
    }
    #[inline(always)]
    fn kw(self) -> usize {
        self.kw
    }
}

/// `a * b + c`: one fused instruction where the CPU has FMA ([`Fused`]), else a multiply and an
/// add ([`Unfused`]; without the instruction, `mul_add` is a slow library call).
pub(crate) trait MulAdd {
    fn mul_add<E: Element>(a: E, b: E, c: E) -> E;
}

pub(crate) struct Fused;
impl MulAdd for Fused {
    #[inline(always)]
    fn mul_add<E: Element>(a: E, b: E, c: E) -> E {
        a.mul_add(b, c)
    }
}

pub(crate) struct Unfused;
impl MulAdd for Unfused {
    #[inline(always)]
    fn mul_add<E: Element>(a: E, b: E, c: E) -> E {
        a * b + c
    }
}

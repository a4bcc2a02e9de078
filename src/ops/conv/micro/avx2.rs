//! The micro-kernels' AVX2 copies: 8 lanes of f32 in each of 16 registers, fused
//! multiply-add. The same three loops as the generic copies ([`correlate_block`],
//! [`weight_block`], [`channel_block`]), written with the intrinsics of `std::arch`, so that the
//! sums are held in named registers: the generic copies at 8 lanes, 12 sums and 3 vectors read
//! left sums in memory (LLVM 1.95 spilled them to the stack at every multiply-add: 30-40
//! GFLOP/s on `x=[8,64,56,56] w=[64,64,3,3]`, one thread).
//!
//! Blocks for 16 registers ([`Blocking`](super::Blocking)): the forward pass and the input's
//! gradient keep `J x V` sums (`J` output planes by `V` vectors of positions, at most 12), read
//! `V` vectors of the input and broadcast `J` weights per tap; the weight's gradient keeps 3 x 3
//! vectors of partial sums (by position) or `T x V` sums (by channel, 12 at most).
//!
//! In f32 only: [`Avx2Kernels`] for f64 runs the generic baseline loops at AVX2's blocking (the
//! plan never picks AVX2 for f64; the impl keeps the kernels generic over the element type).

use super::correlate::{correlate_block, Planes};
use super::weights::{channel_block, weight_block, ChannelBlock, WeightBlock};
use super::{Any, KernelSize, Taps, Unfused};
use crate::tensor::Element;

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
use super::Fixed;
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
use crate::ops::conv::cpu::Isa;
#[cfg(target_arch = "x86")]
use std::arch::x86::*;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// f32 lanes in an AVX2 register.
pub(crate) const AVX2_LANES: usize = 8;

/// The blocks of the micro-kernels in the AVX2 copies, for an element type.
pub(crate) trait Avx2Kernels: Element {
    /// `out[j*rounded + p] = sum_{i, ky, kx} weight[((i*KH + ky)*KW + kx)*J + j]
    ///     * src[i*plane + p + ky*row_step + kx*col_step]` for one block of `J` output planes,
    /// `V` vectors of positions at a time (see the generic `correlate_block`); the kernel
    /// size a compile-time constant when `taps` is [`Taps::Fixed`].
    fn correlate_block<const J: usize, const V: usize>(
        x: &Planes<'_, Self>,
        taps: Taps,
        weight: &[Self],
        out: &mut [Self],
        rounded: usize,
    );

    /// `sums[j][t][l] += sum_{p ≡ l mod 8} gy[j][p] * x[t][p]` over every block's slices.
    fn weight_block<const J: usize, const T: usize>(
        blocks: &[WeightBlock<'_, Self, J, T>],
        sums: &mut [[[Self; AVX2_LANES]; T]; J],
    );

    /// `sums[t][v] += sum_p g[p][v] * x[t][p]` for each block `(g, x)`, `g` being `[p][V*8]`.
    fn channel_block<const V: usize, const T: usize>(
        blocks: &[ChannelBlock<'_, Self, T>],
        sums: &mut [[[Self; AVX2_LANES]; V]; T],
    );
}

impl Avx2Kernels for f64 {
    fn correlate_block<const J: usize, const V: usize>(
        x: &Planes<'_, f64>,
        _taps: Taps,
        weight: &[f64],
        out: &mut [f64],
        rounded: usize,
    ) {
        let size = Any { kh: x.kh, kw: x.kw };
        correlate_block::<f64, _, Unfused, AVX2_LANES, J, V>(x, size, weight, out, rounded)
    }

    fn weight_block<const J: usize, const T: usize>(
        blocks: &[WeightBlock<'_, f64, J, T>],
        sums: &mut [[[f64; AVX2_LANES]; T]; J],
    ) {
        weight_block::<f64, Unfused, AVX2_LANES, J, T>(blocks, sums)
    }

    fn channel_block<const V: usize, const T: usize>(
        blocks: &[ChannelBlock<'_, f64, T>],
        sums: &mut [[[f64; AVX2_LANES]; V]; T],
    ) {
        channel_block::<f64, Unfused, AVX2_LANES, V, T>(blocks, sums)
    }
}

/// Off x86 there is no AVX2: the generic loops (never planned there: the plan asks the CPU).
#[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
impl Avx2Kernels for f32 {
    fn correlate_block<const J: usize, const V: usize>(
        x: &Planes<'_, f32>,
        _taps: Taps,
        weight: &[f32],
        out: &mut [f32],
        rounded: usize,
    ) {
        let size = Any { kh: x.kh, kw: x.kw };
        correlate_block::<f32, _, Unfused, AVX2_LANES, J, V>(x, size, weight, out, rounded)
    }

    fn weight_block<const J: usize, const T: usize>(
        blocks: &[WeightBlock<'_, f32, J, T>],
        sums: &mut [[[f32; AVX2_LANES]; T]; J],
    ) {
        weight_block::<f32, Unfused, AVX2_LANES, J, T>(blocks, sums)
    }

    fn channel_block<const V: usize, const T: usize>(
        blocks: &[ChannelBlock<'_, f32, T>],
        sums: &mut [[[f32; AVX2_LANES]; V]; T],
    ) {
        channel_block::<f32, Unfused, AVX2_LANES, V, T>(blocks, sums)
    }
}

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
impl Avx2Kernels for f32 {
    fn correlate_block<const J: usize, const V: usize>(
        x: &Planes<'_, f32>,
        taps: Taps,
        weight: &[f32],
        out: &mut [f32],
        rounded: usize,
    ) {
        assert!(Isa::Avx2.supported(), "an AVX2 kernel on a CPU without");
        let fixed = taps == Taps::Fixed;
        macro_rules! by_size {
            ($($kh:literal x $kw:literal),*) => {
                match (x.kh, x.kw) {
                    $(
                        ($kh, $kw) if fixed => {
                            let size = Fixed::<$kh, $kw>;
                            // SAFETY: `correlate_avx2` needs AVX2 and FMA, and the CPU has
                            // them: asserted on entry (`Isa::supported` asks the CPU).
                            unsafe { correlate_avx2::<_, J, V>(x, size, weight, out, rounded) }
                        }
                    )*
                    (kh, kw) => {
                        let size = Any { kh, kw };
                        // SAFETY: as above.
                        unsafe { correlate_avx2::<_, J, V>(x, size, weight, out, rounded) }
                    }
                }
            };
        }
        by_size!(1 x 1, 3 x 3, 5 x 5, 7 x 7, 1 x 3, 1 x 5, 1 x 7)
    }

    fn weight_block<const J: usize, const T: usize>(
        blocks: &[WeightBlock<'_, f32, J, T>],
        sums: &mut [[[f32; AVX2_LANES]; T]; J],
    ) {
        assert!(Isa::Avx2.supported(), "an AVX2 kernel on a CPU without");
        // SAFETY: `weight_block_avx2` needs AVX2 and FMA, and the CPU has them: asserted on the
        // line above.
        unsafe { weight_block_avx2(blocks, sums) }
    }

    fn channel_block<const V: usize, const T: usize>(
        blocks: &[ChannelBlock<'_, f32, T>],
        sums: &mut [[[f32; AVX2_LANES]; V]; T],
    ) {
        assert!(Isa::Avx2.supported(), "an AVX2 kernel on a CPU without");
        // SAFETY: `channel_block_avx2` needs AVX2 and FMA, and the CPU has them: asserted on
        // the line above.
        unsafe { channel_block_avx2(blocks, sums) }
    }
}

/// The 8 values of `v` in a register.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
#[inline]
fn load(v: &[f32; AVX2_LANES]) -> __m256 {
    // SAFETY: reads the 8 floats `v` refers to (an unaligned load).
    unsafe { _mm256_loadu_ps(v.as_ptr()) }
}

/// Writes a register's 8 values into `to`.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
#[inline]
fn store(v: __m256, to: &mut [f32; AVX2_LANES]) {
    // SAFETY: writes the 8 floats `to` refers to (an unaligned store), which it borrows
    // mutably.
    unsafe { _mm256_storeu_ps(to.as_mut_ptr(), v) }
}

/// One block of `J` output planes, all positions, `V` vectors of 8 at a time:
///
/// `out[j*rounded + p] = sum_{i, ky, kx} weight[((i*KH + ky)*KW + kx)*J + j]
///     * src[i*plane + p + ky*row_step + kx*col_step]`
///
/// Per tap, `V` loads and `J` broadcasts feed `J*V` multiply-adds into the sums, which stay in
/// registers over every input plane and tap and are stored once. The input is read through a
/// pointer, its bounds checked once for the whole block (`reach`) rather than at every tap:
/// with a slice per tap, the checks and the pointers they keep live took the general registers
/// and LLVM reloaded them from the stack inside the tap loop.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
fn correlate_avx2<S: KernelSize, const J: usize, const V: usize>(
    x: &Planes<'_, f32>,
    size: S,
    weight: &[f32],
    out: &mut [f32],
    rounded: usize,
) {
    let (kh, kw) = (size.kh(), size.kw());
    let taps = kh * kw;
    let block = V * AVX2_LANES;
    if x.planes == 0 || rounded == 0 {
        return out[..J * rounded].fill(0.0);
    }
    // every element read, at most: the last plane's last block's last tap's last lane
    assert!(
        rounded.is_multiple_of(block) && x.reach(rounded) <= x.src.len(),
        "correlate_avx2: reads past the input"
    );
    assert_eq!(weight.len(), x.planes * taps * J, "correlate_avx2: weights");
    // where each tap reads, relative to the position: the same for every plane
    let offsets: Vec<usize> = (0..taps)
        .map(|t| (t / kw) * x.row_step + (t % kw) * x.col_step)
        .collect();
    // (sliced to `taps`: a constant for a compile-time kernel size, so the tap loop unrolls)
    let offsets = &offsets[..taps];
    let src = x.src.as_ptr();
    for p in (0..rounded).step_by(block) {
        let mut sum = [[_mm256_setzero_ps(); V]; J];
        for (i, weight) in weight.chunks_exact(taps * J).enumerate() {
            for (&offset, w) in offsets.iter().zip(weight.chunks_exact(J)) {
                // SAFETY: reads `src[i*plane + p + offset ..][..block]`: `p + block <= rounded`
                // and `offset` is at most the last tap's, so every index is below
                // `x.reach(rounded)`, asserted above to be within `x.src`.
                let at = unsafe { src.add(i * x.plane + p + offset) };
                let mut ws = [_mm256_setzero_ps(); J];
                for (broadcast, &w) in ws.iter_mut().zip(w) {
                    *broadcast = _mm256_set1_ps(w);
                }
                // sum[j][v] += w[j] * src[v]: each loaded vector feeds J multiply-adds, one
                // vector at a time (J broadcasts, one vector and J*V sums in 16 registers)
                for v in 0..V {
                    // SAFETY: as above; `v*8 + 8 <= block`.
                    let x = unsafe { _mm256_loadu_ps(at.add(v * AVX2_LANES)) };
                    for (sum, &w) in sum.iter_mut().zip(&ws) {
                        sum[v] = _mm256_fmadd_ps(w, x, sum[v]);
                    }
                }
            }
        }
        for (j, sum) in sum.iter().enumerate() {
            let (out, _) = out[j * rounded + p..][..block].as_chunks_mut::<AVX2_LANES>();
            for (out, &s) in out.iter_mut().zip(sum) {
                store(s, out);
            }
        }
    }
}

/// `sums[j][t][l] += sum_{p ≡ l mod 8} gy[j][p] * x[t][p]` over every block's slices (each a
/// multiple of 8 long): per 8 positions, `J + T` loads feed `J*T` multiply-adds.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
fn weight_block_avx2<const J: usize, const T: usize>(
    blocks: &[WeightBlock<'_, f32, J, T>],
    sums: &mut [[[f32; AVX2_LANES]; T]; J],
) {
    let mut acc = [[_mm256_setzero_ps(); T]; J];
    for (acc, sums) in acc.iter_mut().zip(sums.iter()) {
        for (a, s) in acc.iter_mut().zip(sums) {
            *a = load(s);
        }
    }
    for (gy, x) in blocks {
        let vectors = gy[0].len() / AVX2_LANES;
        let mut gy_vectors: [&[[f32; AVX2_LANES]]; J] = [&[]; J];
        for (g, gy) in gy_vectors.iter_mut().zip(gy) {
            *g = &gy.as_chunks().0[..vectors];
        }
        let mut x_vectors: [&[[f32; AVX2_LANES]]; T] = [&[]; T];
        for (v, x) in x_vectors.iter_mut().zip(x) {
            *v = &x.as_chunks().0[..vectors];
        }
        for p in 0..vectors {
            let mut xs = [_mm256_setzero_ps(); T];
            for (v, x) in xs.iter_mut().zip(&x_vectors) {
                *v = load(&x[p]);
            }
            for (acc, gy) in acc.iter_mut().zip(&gy_vectors) {
                let g = load(&gy[p]);
                for (a, &x) in acc.iter_mut().zip(&xs) {
                    *a = _mm256_fmadd_ps(g, x, *a);
                }
            }
        }
    }
    for (acc, sums) in acc.iter().zip(sums.iter_mut()) {
        for (&a, s) in acc.iter().zip(sums) {
            store(a, s);
        }
    }
}

/// `sums[t][v] += sum_p g[p][v] * x[t][p]` for each block `(g, x)`, `g` being `[p][V*8]`: per
/// position, `V` loads and `T` broadcasts feed `T*V` multiply-adds.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
fn channel_block_avx2<const V: usize, const T: usize>(
    blocks: &[ChannelBlock<'_, f32, T>],
    sums: &mut [[[f32; AVX2_LANES]; V]; T],
) {
    let mut acc = [[_mm256_setzero_ps(); V]; T];
    for (acc, sums) in acc.iter_mut().zip(sums.iter()) {
        for (a, s) in acc.iter_mut().zip(sums) {
            *a = load(s);
        }
    }
    for (g, x) in blocks {
        let g: &[[[f32; AVX2_LANES]; V]] = g.as_chunks::<AVX2_LANES>().0.as_chunks::<V>().0;
        let mut x_taps: [&[f32]; T] = [&[]; T];
        for (v, x) in x_taps.iter_mut().zip(x) {
            *v = &x[..g.len()];
        }
        for (p, g) in g.iter().enumerate() {
            let mut gs = [_mm256_setzero_ps(); V];
            for (v, g) in gs.iter_mut().zip(g) {
                *v = load(g);
            }
            for (acc, x) in acc.iter_mut().zip(&x_taps) {
                let x = _mm256_set1_ps(x[p]);
                for (a, &g) in acc.iter_mut().zip(&gs) {
                    *a = _mm256_fmadd_ps(g, x, *a);
                }
            }
        }
    }
    for (acc, sums) in acc.iter().zip(sums.iter_mut()) {
        for (&a, s) in acc.iter().zip(sums) {
            store(a, s);
        }
    }
}

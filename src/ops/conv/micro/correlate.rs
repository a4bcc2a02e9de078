//! The micro-kernel of the forward pass and of the input's gradient: [`correlate`], `J`
//! output planes by `V` vectors of positions kept in registers. The driver here cuts the work
//! into blocks of output planes; the blocks run in the generic copies below (the baseline, and
//! AVX-512 with a copy per common kernel size) or in the AVX2 ones (`avx2.rs`).

use super::avx2::{Avx2Kernels, AVX2_LANES};
use super::{Any, Blocking, Fixed, Fused, KernelSize, MulAdd, Taps, Unfused, LANES};
use crate::ops::conv::cpu::Isa;
use crate::ops::conv::plan::Blocked;
use crate::tensor::Element;

/// The input side of a [`correlate`]: `planes` input planes of `src`, `plane` elements apart,
/// read at `n` positions; kernel tap `(ky, kx)` reads position `p` at
/// `p + ky*row_step + kx*col_step` of each plane.
///
/// Two layouts give that form (see [`Layout`](crate::ops::conv::Layout)): a *wide* plane (rows `width` long:
/// `row_step = width*dilation_h`, `col_step = dilation_w`) and a *compact* one (one copy of the
/// plane per kernel column, rows exactly as long as the output's: `row_step = OW*dilation_h`,
/// `col_step` = one copy).
pub(crate) struct Planes<'a, E> {
    pub src: &'a [E],
    pub plane: usize,
    pub planes: usize,
    pub row_step: usize,
    pub col_step: usize,
    pub n: usize,
    pub kh: usize,
    pub kw: usize,
}

impl<E> Planes<'_, E> {
    /// The last element a block of `rounded` positions reads, plus one; `usize::MAX` when that
    /// does not fit (saturating: the unsafe reads are bounded by this, so it must never wrap to
    /// a small number, whatever sizes it is given).
    pub(crate) fn reach(&self, rounded: usize) -> usize {
        let last_tap = (self.kh.saturating_sub(1).saturating_mul(self.row_step))
            .saturating_add(self.kw.saturating_sub(1).saturating_mul(self.col_step));
        (self.planes.saturating_sub(1).saturating_mul(self.plane))
            .saturating_add(rounded)
            .saturating_add(last_tap)
    }
}

/// Weights laid out for [`correlate`]: output planes in blocks of `J`, each block
/// `[i][ky][kx][j]` (zero past the last output plane).
pub(crate) struct PackedWeights<E> {
    data: Vec<E>,
    /// Output planes per block (`J`).
    block: usize,
    outputs: usize,
}

impl<E: Element> PackedWeights<E> {
    /// Packs `weight(j, i, ky, kx)` for `outputs` output planes and `inputs` input planes in
    /// blocks of `block` output planes, the last one padded with zeros.
    pub(crate) fn new(
        block: usize,
        outputs: usize,
        inputs: usize,
        [kh, kw]: [usize; 2],
        weight: impl Fn(usize, usize, usize, usize) -> E,
    ) -> Self {
        let block = block.max(1);
        let mut data = Vec::with_capacity(outputs.div_ceil(block) * inputs * kh * kw * block);
        for first in (0..outputs).step_by(block) {
            for i in 0..inputs {
                for ky in 0..kh {
                    for kx in 0..kw {
                        data.extend((first..first + block).map(|j| {
                            if j < outputs {
                                weight(j, i, ky, kx)
                            } else {
                                E::zero()
                            }
                        }));
                    }
                }
            }
        }
        PackedWeights {
            data,
            block,
            outputs,
        }
    }
}

/// `out[j][p] = sum_{i, ky, kx} weight[j, i, ky, kx] * src[i*plane + p + ky*row_step + kx*col_step]`
/// for every output plane `j` and position `p < n`; calls `emit(j, out_j)` with each plane's
/// results (the first `n`, then up to a block of positions computed past them). `src` must be
/// readable [`SLACK`](super::SLACK) elements past the last position's last tap (checked).
/// `out` is scratch. Runs the copy, blocking ([`Blocking::Planes`], whose `planes` the weights
/// were packed with) and tap loop that `kernel` names.
pub(crate) fn correlate<E: Element + Avx2Kernels>(
    x: &Planes<'_, E>,
    weights: &PackedWeights<E>,
    kernel: &Blocked,
    out: &mut Vec<E>,
    mut emit: impl FnMut(usize, &[E]),
) {
    let Blocking::Planes { planes, vectors } = kernel.blocking else {
        panic!("correlate: planned {:?}", kernel.blocking)
    };
    assert_eq!(planes, weights.block, "correlate: the weights' blocks");
    let (isa, taps) = (kernel.isa, kernel.taps);
    macro_rules! avx2 {
        ($j:literal, $v:literal) => {
            correlate_in_blocks::<E, AVX2_LANES, $j, $v>(
                x,
                weights,
                out,
                &mut emit,
                |x, w, o, r| E::correlate_block::<$j, $v>(x, taps, w, o, r),
            )
        };
    }
    macro_rules! generic {
        ($j:literal, $v:literal) => {
            correlate_in_blocks::<E, LANES, $j, $v>(x, weights, out, &mut emit, |x, w, o, r| {
                run_block::<E, $j, $v>(isa, taps, x, w, o, r)
            })
        };
    }
    match (isa, planes, vectors) {
        (Isa::Avx2, 1, 12) => avx2!(1, 12),
        (Isa::Avx2, 2, 6) => avx2!(2, 6),
        (Isa::Avx2, 3, 4) => avx2!(3, 4),
        (Isa::Avx2, 4, 2) => avx2!(4, 2),
        (Isa::Portable | Isa::Avx512, 1, 6) => generic!(1, 6),
        (Isa::Portable | Isa::Avx512, 2, 6) => generic!(2, 6),
        (Isa::Portable | Isa::Avx512, 3, 6) => generic!(3, 6),
        (Isa::Portable | Isa::Avx512, 4, 4) => generic!(4, 4),
        (Isa::Portable | Isa::Avx512, 4, 6) => generic!(4, 6),
        blocking => panic!("correlate: no copy for {blocking:?}"),
    }
}

/// [`correlate`] over every block of `J` output planes, `V` vectors of `L` positions at a
/// time, each block's sums computed by `block(x, weights_of_block, out, rounded)`.
fn correlate_in_blocks<E: Element, const L: usize, const J: usize, const V: usize>(
    x: &Planes<'_, E>,
    weights: &PackedWeights<E>,
    out: &mut Vec<E>,
    emit: &mut impl FnMut(usize, &[E]),
    block_sums: impl Fn(&Planes<'_, E>, &[E], &mut [E], usize),
) {
    let taps = x.kh * x.kw;
    let block = V * L;
    let rounded = x.n.div_ceil(block) * block;
    assert!(
        x.planes == 0 || x.reach(rounded) <= x.src.len(),
        "correlate: {} elements read, {} given",
        x.reach(rounded),
        x.src.len()
    );
    out.clear();
    out.resize(J * rounded, E::zero());
    if x.planes == 0 {
        // no input planes: every output is an empty sum
        for plane in 0..weights.outputs {
            emit(plane, &out[..rounded]);
        }
        return;
    }
    for (block, weight) in weights.data.chunks_exact(x.planes * taps * J).enumerate() {
        block_sums(x, weight, out, rounded);
        for (j, out) in out.chunks_exact(rounded).enumerate() {
            let plane = block * J + j;
            if plane < weights.outputs {
                emit(plane, out);
            }
        }
    }
}

/// Runs [`correlate_block`] for one block of `J` output planes in the copy for `isa`: for f32
/// with AVX-512 and [`Taps::Fixed`], the copy for the kernel size (see
/// [`correlate_f32_avx512`]); else the run-time-size loop. (Compile-time sizes elsewhere would
/// be compiled for nothing: f64 and CPUs without AVX-512 run im2col's GEMM whenever speed
/// matters.)
fn run_block<E: Element, const J: usize, const V: usize>(
    isa: Isa,
    taps: Taps,
    x: &Planes<'_, E>,
    weight: &[E],
    out: &mut [E],
    rounded: usize,
) {
    let size = Any { kh: x.kh, kw: x.kw };
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    if isa == Isa::Avx512 && Isa::Avx512.supported() {
        if let (Some(src), Some(weight)) = (E::as_f32(x.src), E::as_f32(weight)) {
            let out = E::as_f32_mut(out).expect("one element type");
            let x = Planes {
                src,
                plane: x.plane,
                planes: x.planes,
                row_step: x.row_step,
                col_step: x.col_step,
                n: x.n,
                kh: x.kh,
                kw: x.kw,
            };
            return correlate_f32_avx512::<J, V>(&x, taps, weight, out, rounded);
        }
        // SAFETY: `correlate_avx512` needs AVX-512F, and the CPU has it: checked by the `if`
        // above (`Isa::supported` asks the CPU).
        return unsafe { correlate_avx512::<E, _, J, V>(x, size, weight, out, rounded) };
    }
    let _ = isa;
    correlate_portable::<E, _, J, V>(x, size, weight, out, rounded)
}

/// [`correlate_block`] in f32 with AVX-512, in its copy for the kernel size when `taps` is
/// [`Taps::Fixed`] (a copy of its own for each of [`Taps::FIXED_SIZES`], where LLVM unrolls
/// the loops over the taps); the run-time loop for the others.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
fn correlate_f32_avx512<const J: usize, const V: usize>(
    x: &Planes<'_, f32>,
    taps: Taps,
    weight: &[f32],
    out: &mut [f32],
    rounded: usize,
) {
    assert!(
        Isa::Avx512.supported(),
        "an AVX-512 kernel on a CPU without"
    );
    let fixed = taps == Taps::Fixed;
    macro_rules! by_size {
        ($($kh:literal x $kw:literal),*) => {
            match (x.kh, x.kw) {
                $(
                    ($kh, $kw) if fixed => {
                        let size = Fixed::<$kh, $kw>;
                        // SAFETY: `correlate_avx512` needs AVX-512F, and the CPU has it:
                        // asserted on entry (`Isa::supported` asks the CPU).
                        unsafe { correlate_avx512::<f32, _, J, V>(x, size, weight, out, rounded) }
                    }
                )*
                (kh, kw) => {
                    let size = Any { kh, kw };
                    // SAFETY: as above.
                    unsafe { correlate_avx512::<f32, _, J, V>(x, size, weight, out, rounded) }
                }
            }
        };
    }
    by_size!(1 x 1, 3 x 3, 5 x 5, 7 x 7, 1 x 3, 1 x 5, 1 x 7)
}

/// [`correlate_block`] compiled for the target's baseline.
fn correlate_portable<E: Element, S: KernelSize, const J: usize, const V: usize>(
    x: &Planes<'_, E>,
    size: S,
    weight: &[E],
    out: &mut [E],
    rounded: usize,
) {
    correlate_block::<E, S, Unfused, LANES, J, V>(x, size, weight, out, rounded)
}

/// [`correlate_block`] compiled with AVX-512 (16 f32 per register, fused multiply-add).
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f")]
fn correlate_avx512<E: Element, S: KernelSize, const J: usize, const V: usize>(
    x: &Planes<'_, E>,
    size: S,
    weight: &[E],
    out: &mut [E],
    rounded: usize,
) {
    correlate_block::<E, S, Fused, LANES, J, V>(x, size, weight, out, rounded)
}

/// One block of `J` output planes, all positions:
///
/// `out[j*rounded + p] = sum_{i, ky, kx} weight[((i*KH + ky)*KW + kx)*J + j]
///     * src[i*plane + p + ky*row_step + kx*col_step]`
///
/// computed `V * L` positions at a time, the `J x V x L` sums in registers.
#[inline(always)]
pub(crate) fn correlate_block<
    E: Element,
    S: KernelSize,
    M: MulAdd,
    const L: usize,
    const J: usize,
    const V: usize,
>(
    x: &Planes<'_, E>,
    size: S,
    weight: &[E],
    out: &mut [E],
    rounded: usize,
) {
    let (kh, kw) = (size.kh(), size.kw());
    let block = V * L;
    for p in (0..rounded).step_by(block) {
        let mut sum = [[[E::zero(); L]; V]; J];
        for i in 0..x.planes {
            let src = &x.src[i * x.plane + p..];
            let weight = &weight[i * kh * kw * J..][..kh * kw * J];
            for ky in 0..kh {
                for kx in 0..kw {
                    let shift = ky * x.row_step + kx * x.col_step;
                    let (src, _) = src[shift..][..block].as_chunks::<L>();
                    let w = &weight[(ky * kw + kx) * J..][..J];
                    // sum[j][v] += w[j] * src[v]: each loaded vector feeds J multiply-adds
                    for (v, src) in src.iter().enumerate() {
                        for (sum, &w) in sum.iter_mut().zip(w) {
                            for (s, &x) in sum[v].iter_mut().zip(src) {
                                *s = M::mul_add(w, x, *s);
                            }
                        }
                    }
                }
            }
        }
        for (j, sum) in sum.iter().enumerate() {
            out[j * rounded + p..][..block].copy_from_slice(sum.as_flattened());
        }
    }
}

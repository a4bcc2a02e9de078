//! The micro-kernels of the weight's gradient: [`correlate_weights`], vectorised over
//! positions (output channels by taps, each sum a vector of partial sums), and
//! [`correlate_weights_by_channel`], vectorised over output channels. The drivers here cut the
//! work into blocks; the blocks run in the generic copies below (the baseline, AVX-512) or in
//! the AVX2 ones (`avx2.rs`), each with the lanes and blocking of its instruction set.

use std::array::from_fn;

use super::avx2::{Avx2Kernels, AVX2_LANES};
use super::{Blocking, Fused, MulAdd, Unfused, LANES};
use crate::ops::conv::cpu::Isa;
use crate::ops::conv::plan::Blocked;
use crate::tensor::Element;

/// Output channels per block in [`correlate_weights`]'s generic copies.
pub(crate) const WEIGHT_J: usize = 4;
/// Taps per block in [`correlate_weights`]'s generic copies: `4 x 5` sums plus the 9 vectors
/// they read fill 29 of the 32 AVX-512 registers.
pub(crate) const WEIGHT_T: usize = 5;

/// One batch entry's operands for [`correlate_weights`]: the upstream gradient of each output
/// channel and the input plane of each tap `t = (c, ky, kx)`, shifted to line up with it.
pub(crate) struct WeightOperands<'a, E> {
    pub grad_out: Vec<&'a [E]>,
    pub x: Vec<&'a [E]>,
}

/// `J` upstream-gradient slices and `T` input slices of one length, a multiple of the lanes.
pub(crate) type WeightBlock<'a, E, const J: usize, const T: usize> = ([&'a [E]; J], [&'a [E]; T]);

/// The gradient of the weight over several batch entries, a block of output channels by a
/// block of taps at a time (the plan's [`Blocking::ByPosition`]):
///
/// `grad[o*taps + t] += sum_e sum_{p < n} entries[e].grad_out[o][p] * entries[e].x[t][p]`
///
/// where `grad_out[o]` is output channel `o`'s upstream gradient on the layout's positions
/// (zero at positions thrown away). Every slice holds at least `n` elements. The sums of a
/// block stay in registers over all the entries (small planes: 64 positions each for a 12x12
/// input under a 5x5 kernel).
pub(crate) fn correlate_weights<E: Element + Avx2Kernels>(
    entries: &[WeightOperands<'_, E>],
    n: usize,
    grad: &mut [E],
    kernel: &Blocked,
) {
    let Blocking::ByPosition { channels, taps } = kernel.blocking else {
        panic!("correlate_weights: planned {:?}", kernel.blocking)
    };
    match (kernel.isa, channels, taps) {
        (Isa::Avx2, 3, 3) => by_position::<E, AVX2_LANES, 3, 3>(entries, n, grad, E::weight_block),
        (Isa::Portable | Isa::Avx512, WEIGHT_J, WEIGHT_T) => {
            let isa = kernel.isa;
            let block = |blocks: &[WeightBlock<'_, E, WEIGHT_J, WEIGHT_T>], sums: &mut _| {
                run_weight_block(isa, blocks, sums)
            };
            by_position::<E, LANES, WEIGHT_J, WEIGHT_T>(entries, n, grad, block)
        }
        (isa, ..) => panic!(
            "correlate_weights: no {isa:?} copy for {:?}",
            kernel.blocking
        ),
    }
}

/// [`correlate_weights`] in blocks of `J` channels by `T` taps, `L` lanes of partial sums each,
/// every block's sums computed by `block`.
fn by_position<E: Element, const L: usize, const J: usize, const T: usize>(
    entries: &[WeightOperands<'_, E>],
    n: usize,
    grad: &mut [E],
    block: impl Fn(&[WeightBlock<'_, E, J, T>], &mut [[[E; L]; T]; J]),
) {
    let Some(first) = entries.first() else { return };
    let (outputs, taps) = (first.grad_out.len(), first.x.len());
    assert_eq!(grad.len(), outputs * taps, "correlate_weights: grad size");
    let whole = n / L * L;
    // the last n % L positions of every slice, in one vector padded with zeros
    let tail = |s: &[E]| -> [E; L] {
        let mut v = [E::zero(); L];
        v[..n - whole].copy_from_slice(&s[whole..n]);
        v
    };
    // per entry: the tails of its upstream gradients, then of its taps
    type Tails<E, const L: usize> = (Vec<[E; L]>, Vec<[E; L]>);
    let tails: Vec<Tails<E, L>> = entries
        .iter()
        .map(|e| {
            let gy = e.grad_out.iter().map(|s| tail(s)).collect();
            (gy, e.x.iter().map(|s| tail(s)).collect())
        })
        .collect();
    // the slices that fill a block past the last channel or tap: their sums are dropped
    let zeros = vec![E::zero(); whole.max(L)];
    let mut blocks = Vec::with_capacity(2 * entries.len());
    for first_o in (0..outputs).step_by(J) {
        for first_t in (0..taps).step_by(T) {
            // (grad_out, x) slices of every entry for this block, whole vectors then tails
            blocks.clear();
            for e in entries {
                let gy = from_fn(|j| pick(&e.grad_out, first_o + j, whole, &zeros));
                blocks.push((gy, from_fn(|t| pick(&e.x, first_t + t, whole, &zeros))));
            }
            for (gy, x) in &tails {
                let gy = from_fn(|j| gy.get(first_o + j).map_or(&zeros[..L], |v| &v[..]));
                blocks.push((
                    gy,
                    from_fn(|t| x.get(first_t + t).map_or(&zeros[..L], |v| &v[..])),
                ));
            }
            let mut sums = [[[E::zero(); L]; T]; J];
            block(&blocks, &mut sums);
            for (j, sums) in sums.iter().enumerate().take(outputs - first_o) {
                let row = (first_o + j) * taps + first_t;
                for (g, lanes) in grad[row..].iter_mut().zip(sums).take(taps - first_t) {
                    // the L partial sums, added in a fixed order: deterministic results
                    *g += lanes.iter().copied().sum::<E>();
                }
            }
        }
    }
}

/// `slices[i][..len]`, or zeros past the last slice.
fn pick<'a, E>(slices: &[&'a [E]], i: usize, len: usize, zeros: &'a [E]) -> &'a [E] {
    slices.get(i).map_or(&zeros[..len], |s| &s[..len])
}

/// [`weight_block`] in the generic copy for `isa`.
fn run_weight_block<E: Element>(
    isa: Isa,
    blocks: &[WeightBlock<'_, E, WEIGHT_J, WEIGHT_T>],
    sums: &mut [[[E; LANES]; WEIGHT_T]; WEIGHT_J],
) {
    match isa {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        Isa::Avx512 if Isa::Avx512.supported() => {
            // SAFETY: `weight_block_avx512` needs AVX-512F, and the CPU has it: checked on the
            // line above.
            unsafe { weight_block_avx512(blocks, sums) }
        }
        _ => weight_block::<E, Unfused, LANES, WEIGHT_J, WEIGHT_T>(blocks, sums),
    }
}

/// [`weight_block`] compiled with AVX-512.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f")]
fn weight_block_avx512<E: Element>(
    blocks: &[WeightBlock<'_, E, WEIGHT_J, WEIGHT_T>],
    sums: &mut [[[E; LANES]; WEIGHT_T]; WEIGHT_J],
) {
    weight_block::<E, Fused, LANES, WEIGHT_J, WEIGHT_T>(blocks, sums)
}

/// `sums[j][t][l] += sum_{p ≡ l mod L} gy[j][p] * x[t][p]` over every block's slices (each
/// block's of one length, a multiple of `L`): `L` partial sums per `(j, t)`, kept in
/// registers. The caller adds the lanes up: done here, LLVM keeps every lane apart and the
/// loop runs scalar (measured 5 vs 120 GFLOP/s).
#[inline(always)]
pub(crate) fn weight_block<
    E: Element,
    M: MulAdd,
    const L: usize,
    const J: usize,
    const T: usize,
>(
    blocks: &[WeightBlock<'_, E, J, T>],
    sums: &mut [[[E; L]; T]; J],
) {
    let mut acc = *sums;
    for (gy, x) in blocks {
        let vectors = gy[0].len() / L;
        let gy: [&[[E; L]]; J] = from_fn(|j| &gy[j].as_chunks().0[..vectors]);
        let x: [&[[E; L]]; T] = from_fn(|t| &x[t].as_chunks().0[..vectors]);
        for p in 0..vectors {
            for (acc, gy) in acc.iter_mut().zip(&gy) {
                let gy = &gy[p];
                for (acc, x) in acc.iter_mut().zip(&x) {
                    for ((s, &g), &x) in acc.iter_mut().zip(gy).zip(&x[p]) {
                        *s = M::mul_add(g, x, *s);
                    }
                }
            }
        }
    }
    *sums = acc;
}

/// The gradient of the weight vectorised over output channels, for many of them (enough to
/// fill most of a vector's lanes): with `g[p]` the upstream gradient of a block of output
/// channels at position `p` (channels contiguous: the gradient transposed),
///
/// `sums[t][v] += sum_e sum_{p < n} g_e[p][v] * x_e[t][p]`
///
/// for `T` taps at a time: one vector load and `T` broadcasts feed `T*V` multiply-adds, every
/// lane a real channel (no partial sums to add up, no positions past `n`).
pub(crate) struct ChannelOperands<'a, E> {
    /// `[o_block][p][width]`: the entry's upstream gradient, transposed, channels padded with
    /// zeros to whole blocks of [`channel_block_width`].
    pub grad_out_t: &'a [E],
    /// The input plane of each tap, shifted to line up (at least `n` elements each).
    pub x: Vec<&'a [E]>,
}

/// One block of [`correlate_weights_by_channel`]: a transposed upstream gradient `[p][width]`
/// and `T` input slices as long as it has positions.
pub(crate) type ChannelBlock<'a, E, const T: usize> = (&'a [E], [&'a [E]; T]);

/// The width of the blocks of output channels that [`correlate_weights_by_channel`] reads the
/// upstream gradient transposed in: the [`Blocking::ByChannel`]'s vectors of `isa`'s lanes.
pub(crate) fn channel_block_width(isa: Isa, vectors: usize) -> usize {
    vectors
        * match isa {
            Isa::Avx2 => AVX2_LANES,
            Isa::Portable | Isa::Avx512 => LANES,
        }
}

/// Adds `grad[o*taps + t] += sum_e sum_p grad_out_t[e][p][o] * x[e][t][p]` (see
/// [`ChannelOperands`]) for `outputs` channels, in the copy and blocking `kernel` names.
pub(crate) fn correlate_weights_by_channel<E: Element + Avx2Kernels>(
    entries: &[ChannelOperands<'_, E>],
    n: usize,
    outputs: usize,
    grad: &mut [E],
    kernel: &Blocked,
) {
    let isa = kernel.isa;
    let Blocking::ByChannel { vectors, taps } = kernel.blocking else {
        panic!(
            "correlate_weights_by_channel: planned {:?}",
            kernel.blocking
        )
    };
    match (isa, vectors, taps) {
        (Isa::Avx2, 1, 12) => {
            by_channel::<E, AVX2_LANES, 1, 12>(entries, n, outputs, grad, E::channel_block)
        }
        (Isa::Avx2, 2, 6) => {
            by_channel::<E, AVX2_LANES, 2, 6>(entries, n, outputs, grad, E::channel_block)
        }
        (Isa::Portable | Isa::Avx512, 1, 12) => {
            let block = |b: &[ChannelBlock<'_, E, 12>], s: &mut _| run_channel_block(isa, b, s);
            by_channel::<E, LANES, 1, 12>(entries, n, outputs, grad, block)
        }
        (Isa::Portable | Isa::Avx512, 2, 8) => {
            let block = |b: &[ChannelBlock<'_, E, 8>], s: &mut _| run_channel_block(isa, b, s);
            by_channel::<E, LANES, 2, 8>(entries, n, outputs, grad, block)
        }
        _ => panic!(
            "correlate_weights_by_channel: no {isa:?} copy for {:?}",
            kernel.blocking
        ),
    }
}

/// [`correlate_weights_by_channel`] in blocks of `V` vectors of `L` channels by `T` taps, every
/// block's sums computed by `block`.
fn by_channel<E: Element, const L: usize, const V: usize, const T: usize>(
    entries: &[ChannelOperands<'_, E>],
    n: usize,
    outputs: usize,
    grad: &mut [E],
    block: impl Fn(&[ChannelBlock<'_, E, T>], &mut [[[E; L]; V]; T]),
) {
    let Some(first) = entries.first() else { return };
    let taps = first.x.len();
    assert_eq!(
        grad.len(),
        outputs * taps,
        "correlate_weights_by_channel: grad size"
    );
    let width = V * L;
    let zeros = vec![E::zero(); n];
    let mut blocks = Vec::with_capacity(entries.len());
    for ob in 0..outputs.div_ceil(width) {
        for first_t in (0..taps).step_by(T) {
            blocks.clear();
            for e in entries {
                let g = &e.grad_out_t[ob * n * width..][..n * width];
                blocks.push((g, from_fn(|t| pick(&e.x, first_t + t, n, &zeros))));
            }
            let mut sums = [[[E::zero(); L]; V]; T];
            block(&blocks, &mut sums);
            // grad[o, t] += sums[t][o] for the real channels and taps
            for (t, sums) in sums.iter().enumerate().take(taps - first_t) {
                for (i, &s) in sums.as_flattened().iter().enumerate() {
                    let o = ob * width + i;
                    if o < outputs {
                        grad[o * taps + first_t + t] += s;
                    }
                }
            }
        }
    }
}

/// [`channel_block`] in the generic copy for `isa`.
fn run_channel_block<E: Element, const V: usize, const T: usize>(
    isa: Isa,
    blocks: &[ChannelBlock<'_, E, T>],
    sums: &mut [[[E; LANES]; V]; T],
) {
    match isa {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        Isa::Avx512 if Isa::Avx512.supported() => {
            // SAFETY: `channel_block_avx512` needs AVX-512F, and the CPU has it: checked on the
            // line above.
            unsafe { channel_block_avx512(blocks, sums) }
        }
        _ => channel_block::<E, Unfused, LANES, V, T>(blocks, sums),
    }
}

/// [`channel_block`] compiled with AVX-512.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f")]
fn channel_block_avx512<E: Element, const V: usize, const T: usize>(
    blocks: &[ChannelBlock<'_, E, T>],
    sums: &mut [[[E; LANES]; V]; T],
) {
    channel_block::<E, Fused, LANES, V, T>(blocks, sums)
}

/// `sums[t][v] += sum_p g[p][v] * x[t][p]` for each block `(g, x)`: `g` is `[p][V*L]`, each
/// `x[t]` as long as `g` has positions.
#[inline(always)]
pub(crate) fn channel_block<
    E: Element,
    M: MulAdd,
    const L: usize,
    const V: usize,
    const T: usize,
>(
    blocks: &[ChannelBlock<'_, E, T>],
    sums: &mut [[[E; L]; V]; T],
) {
    let mut acc = *sums;
    for (g, x) in blocks {
        let g: &[[[E; L]; V]] = g.as_chunks::<L>().0.as_chunks::<V>().0;
        let x: [&[E]; T] = from_fn(|t| &x[t][..g.len()]);
        for (p, g) in g.iter().enumerate() {
            for (acc, x) in acc.iter_mut().zip(&x) {
                let x = x[p];
                for (acc, g) in acc.iter_mut().zip(g) {
                    for (s, &g) in acc.iter_mut().zip(g) {
                        *s = M::mul_add(g, x, *s);
                    }
                }
            }
        }
    }
    *sums = acc;
}

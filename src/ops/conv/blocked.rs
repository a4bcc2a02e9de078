//! Register-blocked kernels for stride-1 convolution (stride 1 along both axes; the dilation
//! may differ between them): the inner loops of [`direct`](super::direct), written so that a
//! block of results stays in vector registers while every channel and kernel tap is added into
//! it.
//!
//! They see a padded plane as one long row: output `(y, x)` is position `p = y*row + x`, and
//! kernel tap `(ky, kx)` reads each input plane at `p + ky*row_step + kx*col_step`. Two
//! layouts give that form ([`Layout`]): *wide*, the padded planes as they are (`row` = the
//! padded width; the positions past each output row's end are computed and thrown away), and
//! *compact*, one copy of each plane per kernel column cut to the output's width (nothing
//! thrown away; used when wide would waste more than 1/8 of the work).
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
//! - every loop bound inside a block is a constant (`J`, `V`, `LANES`, and with [`Fixed`]
//!   the kernel size too), so LLVM unrolls them and keeps the block in registers. LLVM (Rust
//!   1.95) does this up to 4 output planes by 6 vectors; past that (6 x 4, 1 x 8, 4 x 6 by
//!   channel) it keeps the sums in memory and runs 10x slower (measured), so no larger block
//!   is offered;
//! - each kernel is compiled twice, for the target's baseline and with AVX-512 enabled
//!   (16 f32 per register, fused multiply-add), and the copy is picked at run time
//!   ([`Isa`]).
//!
//! [`correlate`] computes the last block of positions whole: it reads up to [`SLACK`]
//! elements past the last plane's last position, and callers pad their buffers by that much.

use std::array::from_fn;

use super::cpu::Isa;
use crate::tensor::Element;

/// Results per vector: 16 f32 fill one AVX-512 register (16 f64 fill two).
pub(super) const LANES: usize = 16;

/// Elements a caller leaves readable (zeros) after the last plane: a block of positions is at
/// most `6 * LANES` long, and the last block of a plane is computed whole.
pub(super) const SLACK: usize = 6 * LANES;

/// The kernel size as the tap loops see it: [`Fixed`] (a compile-time constant: LLVM unrolls
/// the loops over the taps) or [`Any`] (a run-time value).
pub(super) trait KernelSize: Copy {
    /// Kernel height.
    fn kh(self) -> usize;
    /// Kernel width.
    fn kw(self) -> usize;
}

/// A kernel size known at compile time.
#[derive(Clone, Copy)]
pub(super) struct Fixed<const KH: usize, const KW: usize>;

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
pub(super) struct Any {
    kh: usize,
    kw: usize,
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
trait MulAdd {
    fn mul_add<E: Element>(a: E, b: E, c: E) -> E;
}

struct Fused;
impl MulAdd for Fused {
    #[inline(always)]
    fn mul_add<E: Element>(a: E, b: E, c: E) -> E {
        a.mul_add(b, c)
    }
}

struct Unfused;
impl MulAdd for Unfused {
    #[inline(always)]
    fn mul_add<E: Element>(a: E, b: E, c: E) -> E {
        a * b + c
    }
}

/// The input side of a [`correlate`]: `planes` input planes of `src`, `plane` elements apart,
/// read at `n` positions; kernel tap `(ky, kx)` reads position `p` at
/// `p + ky*row_step + kx*col_step` of each plane.
///
/// Two layouts give that form (see [`Layout`]): a *wide* plane (rows `width` long:
/// `row_step = width*dilation_h`, `col_step = dilation_w`) and a *compact* one (one copy of the
/// plane per kernel column, rows exactly as long as the output's: `row_step = OW*dilation_h`,
/// `col_step` = one copy).
pub(super) struct Planes<'a, E> {
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
    /// The last element a block of `rounded` positions reads, plus one.
    fn reach(&self, rounded: usize) -> usize {
        let last_tap =
            self.kh.saturating_sub(1) * self.row_step + self.kw.saturating_sub(1) * self.col_step;
        self.planes.saturating_sub(1) * self.plane + rounded + last_tap
    }
}

/// Weights laid out for [`correlate`]: output planes in blocks of `J`, each block
/// `[i][ky][kx][j]` (zero past the last output plane).
pub(super) struct PackedWeights<E> {
    data: Vec<E>,
    /// Output planes per block (`J`).
    block: usize,
    outputs: usize,
}

impl<E: Element> PackedWeights<E> {
    /// Packs `weight(j, i, ky, kx)` for `outputs` output planes and `inputs` input planes,
    /// in blocks of 4 output planes (the last one padded with zeros), or of the count when it
    /// is 1, 2, 3, 6 or 9 (blocks of 3). Blocks larger than 4, or of more than 6 vectors, are
    /// not offered: LLVM (1.95) then keeps the sums in memory instead of registers, 10x
    /// slower (measured).
    pub(super) fn new(
        outputs: usize,
        inputs: usize,
        [kh, kw]: [usize; 2],
        weight: impl Fn(usize, usize, usize, usize) -> E,
    ) -> Self {
        let block = match outputs {
            1..=3 => outputs,
            6 | 9 => 3,
            _ => 4,
        };
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
/// readable [`SLACK`] elements past the last position's last tap (checked). `out` is scratch.
pub(super) fn correlate<E: Element>(
    x: &Planes<'_, E>,
    weights: &PackedWeights<E>,
    isa: Isa,
    out: &mut Vec<E>,
    mut emit: impl FnMut(usize, &[E]),
) {
    // J planes by V vectors of sums: at most 24 of the 32 registers. V = 4 or 6, whichever
    // wastes fewer positions past n (a 124-long conv1d row: 128 vs 192).
    let v4 = x.n.div_ceil(4 * LANES) * 4 < x.n.div_ceil(6 * LANES) * 6;
    match (weights.block, v4) {
        (1, _) => correlate_in_blocks::<E, 1, 6>(x, weights, isa, out, &mut emit),
        (2, _) => correlate_in_blocks::<E, 2, 6>(x, weights, isa, out, &mut emit),
        (3, _) => correlate_in_blocks::<E, 3, 6>(x, weights, isa, out, &mut emit),
        (_, true) => correlate_in_blocks::<E, 4, 4>(x, weights, isa, out, &mut emit),
        (_, false) => correlate_in_blocks::<E, 4, 6>(x, weights, isa, out, &mut emit),
    }
}

fn correlate_in_blocks<E: Element, const J: usize, const V: usize>(
    x: &Planes<'_, E>,
    weights: &PackedWeights<E>,
    isa: Isa,
    out: &mut Vec<E>,
    emit: &mut impl FnMut(usize, &[E]),
) {
    let taps = x.kh * x.kw;
    let block = V * LANES;
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
        run_block::<E, J, V>(isa, x, weight, out, rounded);
        for (j, out) in out.chunks_exact(rounded).enumerate() {
            let plane = block * J + j;
            if plane < weights.outputs {
                emit(plane, out);
            }
        }
    }
}

thread_local! {
    /// Whether kernels started on this thread may use their compile-time-size copies
    /// ([`run_time_sizes`]).
    static FIXED_SIZES: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// Runs `f` with every register-blocked direct kernel it starts on this thread looping over a
/// run-time kernel size, even for the sizes that have a compile-time copy (1x1, 3x3, 5x5,
/// 7x7, 1x3, 1x5, 1x7): for tests of that loop and for measuring what the specialisation
/// buys (`cargo bench --bench speed -- --run-time-sizes`).
pub fn run_time_sizes<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            FIXED_SIZES.set(self.0);
        }
    }
    let _restore = Restore(FIXED_SIZES.replace(false));
    f()
}

/// Runs [`correlate_block`] for one block of `J` output planes in the copy for `isa`: for f32
/// with AVX-512, the copy for the kernel size (see [`correlate_f32_avx512`]); else the
/// run-time-size loop. (Compile-time sizes elsewhere would be compiled for nothing: f64 and
/// CPUs without AVX-512 run unroll's GEMM whenever speed matters.)
fn run_block<E: Element, const J: usize, const V: usize>(
    isa: Isa,
    x: &Planes<'_, E>,
    weight: &[E],
    out: &mut [E],
    rounded: usize,
) {
    let size = Any { kh: x.kh, kw: x.kw };
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    if isa == Isa::Avx512 && Isa::detected() == Isa::Avx512 {
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
            return correlate_f32_avx512::<J, V>(&x, weight, out, rounded);
        }
        // SAFETY: `correlate_avx512` needs AVX-512F, and the CPU has it: checked by the `if`
        // above (`Isa::detected` asks the CPU).
        return unsafe { correlate_avx512::<E, _, J, V>(x, size, weight, out, rounded) };
    }
    let _ = isa;
    correlate_portable::<E, _, J, V>(x, size, weight, out, rounded)
}

/// [`correlate_block`] in f32 with AVX-512, in its copy for the kernel size: a copy of its own
/// for the common ones (1x1, 3x3, 5x5, 7x7 and conv1d's 1x3, 1x5, 1x7), where LLVM unrolls the
/// loops over the taps; the run-time loop for the others. Measured (`--kernels`, 1 thread,
/// forward and grad-input): 1x1 +55%, 3x3 +10% to +36%, 5x5 0 to +10%, 7x7 +3 to +7%, conv1d
/// 1x5 +8%; 12 s of CPU time in a clean release build.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
fn correlate_f32_avx512<const J: usize, const V: usize>(
    x: &Planes<'_, f32>,
    weight: &[f32],
    out: &mut [f32],
    rounded: usize,
) {
    assert_eq!(
        Isa::detected(),
        Isa::Avx512,
        "an AVX-512 kernel on a CPU without"
    );
    let fixed = FIXED_SIZES.get();
    macro_rules! by_size {
        ($($kh:literal x $kw:literal),*) => {
            match (x.kh, x.kw) {
                $(
                    ($kh, $kw) if fixed => {
                        let size = Fixed::<$kh, $kw>;
                        // SAFETY: `correlate_avx512` needs AVX-512F, and the CPU has it:
                        // asserted on entry (`Isa::detected` asks the CPU).
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
    correlate_block::<E, S, Unfused, J, V>(x, size, weight, out, rounded)
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
    correlate_block::<E, S, Fused, J, V>(x, size, weight, out, rounded)
}

/// One block of `J` output planes, all positions:
///
/// `out[j*rounded + p] = sum_{i, ky, kx} weight[((i*KH + ky)*KW + kx)*J + j]
///     * src[i*plane + p + ky*row_step + kx*col_step]`
///
/// computed `V * LANES` positions at a time, the `J x V x LANES` sums in registers.
#[inline(always)]
fn correlate_block<E: Element, S: KernelSize, M: MulAdd, const J: usize, const V: usize>(
    x: &Planes<'_, E>,
    size: S,
    weight: &[E],
    out: &mut [E],
    rounded: usize,
) {
    let (kh, kw) = (size.kh(), size.kw());
    let block = V * LANES;
    for p in (0..rounded).step_by(block) {
        let mut sum = [[[E::zero(); LANES]; V]; J];
        for i in 0..x.planes {
            let src = &x.src[i * x.plane + p..];
            let weight = &weight[i * kh * kw * J..][..kh * kw * J];
            for ky in 0..kh {
                for kx in 0..kw {
                    let shift = ky * x.row_step + kx * x.col_step;
                    let (src, _) = src[shift..][..block].as_chunks::<LANES>();
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

/// Output channels per block in [`correlate_weights`].
const WEIGHT_J: usize = 4;
/// Taps per block in [`correlate_weights`]: `4 x 5` sums plus the 9 vectors they read fill
/// 29 of the 32 AVX-512 registers.
const WEIGHT_T: usize = 5;

/// One batch entry's operands for [`correlate_weights`]: the upstream gradient of each output
/// channel and the input plane of each tap `t = (c, ky, kx)`, shifted to line up with it.
pub(super) struct WeightOperands<'a, E> {
    pub grad_out: Vec<&'a [E]>,
    pub x: Vec<&'a [E]>,
}

/// The gradient of the weight over several batch entries, [`WEIGHT_J`] output channels by
/// [`WEIGHT_T`] taps at a time:
///
/// `grad[o*taps + t] += sum_e sum_{p < n} entries[e].grad_out[o][p] * entries[e].x[t][p]`
///
/// where `grad_out[o]` is output channel `o`'s upstream gradient on the layout's positions
/// (zero at positions thrown away). Every slice holds at least `n` elements. The sums of a
/// block stay in registers over all the entries (small planes: 64 positions each for a 12x12
/// input under a 5x5 kernel).
pub(super) fn correlate_weights<E: Element>(
    entries: &[WeightOperands<'_, E>],
    n: usize,
    grad: &mut [E],
    isa: Isa,
) {
    let Some(first) = entries.first() else { return };
    let (outputs, taps) = (first.grad_out.len(), first.x.len());
    assert_eq!(grad.len(), outputs * taps, "correlate_weights: grad size");
    let whole = n / LANES * LANES;
    // the last n % LANES positions of every slice, in one vector padded with zeros
    let tail = |s: &[E]| -> [E; LANES] {
        let mut v = [E::zero(); LANES];
        v[..n - whole].copy_from_slice(&s[whole..n]);
        v
    };
    // per entry: the tails of its upstream gradients, then of its taps
    type Tails<E> = (Vec<[E; LANES]>, Vec<[E; LANES]>);
    let tails: Vec<Tails<E>> = entries
        .iter()
        .map(|e| {
            let gy = e.grad_out.iter().map(|s| tail(s)).collect();
            (gy, e.x.iter().map(|s| tail(s)).collect())
        })
        .collect();
    // the slices that fill a block past the last channel or tap: their sums are dropped
    let zeros = vec![E::zero(); whole.max(LANES)];
    let mut blocks = Vec::with_capacity(2 * entries.len());
    for first_o in (0..outputs).step_by(WEIGHT_J) {
        for first_t in (0..taps).step_by(WEIGHT_T) {
            // (grad_out, x) slices of every entry for this block, whole vectors then tails
            blocks.clear();
            for e in entries {
                let gy = from_fn(|j| pick(&e.grad_out, first_o + j, whole, &zeros));
                blocks.push((gy, from_fn(|t| pick(&e.x, first_t + t, whole, &zeros))));
            }
            for (gy, x) in &tails {
                let gy = from_fn(|j| gy.get(first_o + j).map_or(&zeros[..LANES], |v| &v[..]));
                blocks.push((
                    gy,
                    from_fn(|t| x.get(first_t + t).map_or(&zeros[..LANES], |v| &v[..])),
                ));
            }
            let mut sums = [[[E::zero(); LANES]; WEIGHT_T]; WEIGHT_J];
            run_weight_block(isa, &blocks, &mut sums);
            for (j, sums) in sums.iter().enumerate().take(outputs - first_o) {
                let row = (first_o + j) * taps + first_t;
                for (g, lanes) in grad[row..].iter_mut().zip(sums).take(taps - first_t) {
                    // the LANES partial sums, added in a fixed order: deterministic results
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

/// `WEIGHT_J` upstream-gradient slices and `WEIGHT_T` input slices of one length.
type WeightBlock<'a, E> = ([&'a [E]; WEIGHT_J], [&'a [E]; WEIGHT_T]);

/// [`weight_block`] in the copy for `isa`.
fn run_weight_block<E: Element>(
    isa: Isa,
    blocks: &[WeightBlock<'_, E>],
    sums: &mut [[[E; LANES]; WEIGHT_T]; WEIGHT_J],
) {
    match isa {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        Isa::Avx512 if Isa::detected() == Isa::Avx512 => {
            // SAFETY: `weight_block_avx512` needs AVX-512F, and the CPU has it: checked on the
            // line above.
            unsafe { weight_block_avx512(blocks, sums) }
        }
        _ => weight_block::<E, Unfused>(blocks, sums),
    }
}

/// [`weight_block`] compiled with AVX-512.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f")]
fn weight_block_avx512<E: Element>(
    blocks: &[WeightBlock<'_, E>],
    sums: &mut [[[E; LANES]; WEIGHT_T]; WEIGHT_J],
) {
    weight_block::<E, Fused>(blocks, sums)
}

/// `sums[j][t][l] += sum_{p ≡ l mod LANES} gy[j][p] * x[t][p]` over every block's slices (each
/// block's of one length, a multiple of [`LANES`]): `LANES` partial sums per `(j, t)`, kept in
/// registers. The caller adds the lanes up: done here, LLVM keeps every lane apart and the
/// loop runs scalar (measured 5 vs 120 GFLOP/s).
#[inline(always)]
fn weight_block<E: Element, M: MulAdd>(
    blocks: &[WeightBlock<'_, E>],
    sums: &mut [[[E; LANES]; WEIGHT_T]; WEIGHT_J],
) {
    let mut acc = *sums;
    for (gy, x) in blocks {
        let vectors = gy[0].len() / LANES;
        let gy: [&[[E; LANES]]; WEIGHT_J] = from_fn(|j| &gy[j].as_chunks().0[..vectors]);
        let x: [&[[E; LANES]]; WEIGHT_T] = from_fn(|t| &x[t].as_chunks().0[..vectors]);
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

/// The gradient of the weight vectorised over output channels, for many of them (at least 12
/// of a vector's 16 lanes used): with `g[p]` the upstream gradient of `V*LANES` output
/// channels at position `p` (channels contiguous: the gradient transposed),
///
/// `sums[t][v] += sum_e sum_{p < n} g_e[p][v] * x_e[t][p]`
///
/// for `T` taps at a time: one vector load and `T` broadcasts feed `T*V` multiply-adds, every
/// lane a real channel (no partial sums to add up, no positions past `n`).
pub(super) struct ChannelOperands<'a, E> {
    /// `[o_block][p][V*LANES]`: the entry's upstream gradient, transposed, channels padded with
    /// zeros to whole blocks.
    pub grad_out_t: &'a [E],
    /// The input plane of each tap, shifted to line up (at least `n` elements each).
    pub x: Vec<&'a [E]>,
}

/// Output channels per block of [`correlate_weights_by_channel`] for `outputs` channels, in
/// vectors (`V`), and taps per block (`T`): `T*V` sums in registers. Not 4 vectors: LLVM
/// (1.95) then keeps the sums in memory, 10x slower (measured).
pub(super) fn channel_blocks(outputs: usize) -> (usize, usize) {
    match outputs.div_ceil(LANES) {
        1 => (1, 12),
        _ => (2, 8),
    }
}

/// Adds `grad[o*taps + t] += sum_e sum_p grad_out_t[e][p][o] * x[e][t][p]` (see
/// [`ChannelOperands`]) for `outputs` channels.
pub(super) fn correlate_weights_by_channel<E: Element>(
    entries: &[ChannelOperands<'_, E>],
    n: usize,
    outputs: usize,
    grad: &mut [E],
    isa: Isa,
) {
    match channel_blocks(outputs) {
        (1, _) => by_channel::<E, 1, 12>(entries, n, outputs, grad, isa),
        _ => by_channel::<E, 2, 8>(entries, n, outputs, grad, isa),
    }
}

fn by_channel<E: Element, const V: usize, const T: usize>(
    entries: &[ChannelOperands<'_, E>],
    n: usize,
    outputs: usize,
    grad: &mut [E],
    isa: Isa,
) {
    let Some(first) = entries.first() else { return };
    let taps = first.x.len();
    assert_eq!(
        grad.len(),
        outputs * taps,
        "correlate_weights_by_channel: grad size"
    );
    let width = V * LANES;
    let zeros = vec![E::zero(); n];
    let mut blocks = Vec::with_capacity(entries.len());
    for ob in 0..outputs.div_ceil(width) {
        for first_t in (0..taps).step_by(T) {
            blocks.clear();
            for e in entries {
                let g = &e.grad_out_t[ob * n * width..][..n * width];
                blocks.push((g, from_fn(|t| pick(&e.x, first_t + t, n, &zeros))));
            }
            let mut sums = [[[E::zero(); LANES]; V]; T];
            match isa {
                #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
                Isa::Avx512 if Isa::detected() == Isa::Avx512 => {
                    // SAFETY: `channel_block_avx512` needs AVX-512F, and the CPU has it:
                    // checked on the line above.
                    unsafe { channel_block_avx512(&blocks, &mut sums) }
                }
                _ => channel_block::<E, Unfused, V, T>(&blocks, &mut sums),
            }
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

/// [`channel_block`] compiled with AVX-512.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f")]
fn channel_block_avx512<E: Element, const V: usize, const T: usize>(
    blocks: &[(&[E], [&[E]; T])],
    sums: &mut [[[E; LANES]; V]; T],
) {
    channel_block::<E, Fused, V, T>(blocks, sums)
}

/// `sums[t][v] += sum_p g[p][v] * x[t][p]` for each block `(g, x)`: `g` is `[p][V*LANES]`, each
/// `x[t]` as long as `g` has positions.
#[inline(always)]
fn channel_block<E: Element, M: MulAdd, const V: usize, const T: usize>(
    blocks: &[(&[E], [&[E]; T])],
    sums: &mut [[[E; LANES]; V]; T],
) {
    let mut acc = *sums;
    for (g, x) in blocks {
        let g: &[[[E; LANES]; V]] = g.as_chunks::<LANES>().0.as_chunks::<V>().0;
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

// ---- entry points (stride 1; the gradient of the input at any stride) ----

use super::padded::{add_per_thread_sums, for_each_chunk, Padded};
use super::ConvGeometry;
use crate::memory::Buffer;

/// Copies `rows` rows of `len` elements, row `r` from `src[r*src_step..]` to
/// `dst[r*dst_step..]`, in order, where `dst_step == len` (the rows are contiguous).
///
/// A row shorter than a few vectors copied with `copy_from_slice` is a call to `memcpy` (its
/// length is not a constant), which costs more than the copy: building the compact planes
/// for `x=[64,6,12,12] w=[16,6,5,5]` is 360 rows of 8 per batch entry. So each row but the
/// last goes in whole [`LANES`]-long pieces of constant size, the last piece running on into
/// the next row's place, which the next row then overwrites. The last row is copied exactly,
/// as is any row whose pieces would read past `src`.
fn copy_rows<E: Copy>(dst: &mut [E], src: &[E], src_step: usize, rows: usize, len: usize) {
    let pieces = len.div_ceil(LANES) * LANES;
    for r in 0..rows {
        let (dst, src) = (&mut dst[r * len..], &src[r * src_step..]);
        if r + 1 < rows && src.len() >= pieces && dst.len() >= pieces {
            for (d, s) in dst[..pieces]
                .as_chunks_mut::<LANES>()
                .0
                .iter_mut()
                .zip(src[..pieces].as_chunks::<LANES>().0)
            {
                *d = *s;
            }
        } else {
            dst[..len].copy_from_slice(&src[..len]);
        }
    }
}

/// How a kernel lays out the planes it correlates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
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
    fn choose(width: usize, out_w: usize) -> Layout {
        if (width - out_w) * 8 > width {
            Layout::Compact
        } else {
            Layout::Wide
        }
    }

    /// Elements between output rows: where output `(y, x)` lies is `y*row + x`.
    fn row(self, src: &Padded<'_, impl Element>, out_w: usize) -> usize {
        match self {
            Layout::Wide => src.cols,
            Layout::Compact => out_w,
        }
    }

    /// Positions a kernel computes for an `out_h x out_w` result whose rows start `row` apart
    /// ([`row`](Self::row)): every row but the last `row` long, the last `out_w`.
    fn positions(row: usize, [out_h, out_w]: [usize; 2]) -> usize {
        (out_h - 1) * row + out_w
    }

    /// The planes `first..first + count` of `src` for [`correlate`], read from `corner` (the
    /// padded element that lines up with output `(0, 0)`) for an `out_h x out_w` result.
    /// `Compact` writes its copies into `scratch`.
    #[allow(clippy::too_many_arguments)]
    fn planes<'a, E: Element>(
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

/// Overwrites `output` with the convolution (stride 1 along both axes): per batch entry,
/// [`correlate`] over the padded input's planes, each output row then copied out of its plane
/// of results.
pub(super) fn forward<E: Element>(g: &ConvGeometry, input: &[E], weight: &[E], output: &mut [E]) {
    g.check("blocked::forward", input.len(), weight.len(), output.len());
    assert!(g.unit_stride(), "blocked::forward: stride 1 only");
    if output.is_empty() {
        return;
    }
    let isa = Isa::current();
    let x = Padded::input(g, input, 0);
    let layout = Layout::choose(x.cols, g.out_w);
    let row = layout.row(&x, g.out_w);
    let c = g.in_channels;
    let size = [g.kernel_h, g.kernel_w];
    let weights = PackedWeights::new(g.out_channels, c, size, |o, c, ky, kx| {
        weight[g.weight_at(o, c, ky, kx)]
    });
    let per_entry = g.out_channels * g.out_plane();
    let parallel = g.worth_threads();
    for_each_chunk(
        output,
        per_entry,
        parallel,
        |(scratch, sums), (b, output)| {
            let out = [g.out_h, g.out_w];
            let planes = layout.planes(g, &x, [b * c, c], [0, 0], out, scratch);
            // y[oy*row + ox] = sum_{c, ky, kx} weight[o, c, ky, kx]
            //     * x[b, c][(oy + ky*dilation_h, ox + kx*dilation_w)]
            correlate(&planes, &weights, isa, sums, |o, y| {
                // output[b, o, oy, ox] = y[oy*row + ox]
                let output = &mut output[o * g.out_plane()..][..g.out_plane()];
                copy_rows(output, y, row, g.out_h, g.out_w);
            });
        },
    );
}

/// Adds the gradient with respect to the input (any stride): the upstream gradient, spread by
/// the stride and padded by the kernel's reach, correlated with the reversed kernel (see
/// [`direct::grad_input`](super::direct::grad_input)), input channels in the role of output
/// planes.
pub(super) fn grad_input<E: Element>(
    g: &ConvGeometry,
    grad_output: &[E],
    weight: &[E],
    grad_input: &mut [E],
) {
    g.check(
        "blocked::grad_input",
        grad_input.len(),
        weight.len(),
        grad_output.len(),
    );
    if grad_input.is_empty() || grad_output.is_empty() {
        return;
    }
    let isa = Isa::current();
    let gy = Padded::grad_output(g, grad_output, 0);
    let layout = Layout::choose(gy.cols, g.in_w);
    let row = layout.row(&gy, g.in_w);
    let (o, kh, kw) = (g.out_channels, g.kernel_h, g.kernel_w);
    // flipped[o, c, ky, kx] = weight[o, c, KH-1-ky, KW-1-kx], with c as the output plane
    let weights = PackedWeights::new(g.in_channels, o, [kh, kw], |c, o, ky, kx| {
        weight[g.weight_at(o, c, kh - 1 - ky, kw - 1 - kx)]
    });
    let per_entry = g.in_channels * g.in_plane();
    let parallel = g.worth_threads();
    for_each_chunk(
        grad_input,
        per_entry,
        parallel,
        |(scratch, sums): &mut (Vec<E>, Vec<E>), (b, grad_input)| {
            // gy's element (pad_top, pad_left) lines up with input (0, 0)
            let corner = [g.pad_top, g.pad_left];
            let size = [g.in_h, g.in_w];
            let planes = layout.planes(g, &gy, [b * o, o], corner, size, scratch);
            // dx[iy*row + ix] = sum_{o, ky, kx} flipped[o, c, ky, kx]
            //     * gy[b, o][(iy + pad_top + ky*dilation_h, ix + pad_left + kx*dilation_w)]
            correlate(&planes, &weights, isa, sums, |c, dx| {
                // grad_input[b, c, iy, ix] += dx[iy*row + ix]
                let grad_input = &mut grad_input[c * g.in_plane()..][..g.in_plane()];
                for (iy, grad_input) in grad_input.chunks_exact_mut(g.in_w).enumerate() {
                    let dx = &dx[iy * row..][..g.in_w];
                    grad_input.iter_mut().zip(dx).for_each(|(d, &s)| *d += s);
                }
            });
        },
    );
}

/// Adds the gradient with respect to the weight (stride 1 along both axes):
/// `grad_weight[o, c, ky, kx] += sum_{b, oy, ox} grad_output[b, o, oy, ox]
///     * x[b, c][(oy + ky*dilation_h, ox + kx*dilation_w)]`
/// through [`correlate_weights`], on the same layouts as the forward pass (wide: the upstream
/// gradient widened with zeros to the padded input's rows). Split by batch: each task sums its
/// entries into its own buffer, and the buffers are added at the end.
pub(super) fn grad_weight<E: Element>(
    g: &ConvGeometry,
    grad_output: &[E],
    input: &[E],
    grad_weight: &mut [E],
) {
    g.check(
        "blocked::grad_weight",
        input.len(),
        grad_weight.len(),
        grad_output.len(),
    );
    assert!(g.unit_stride(), "blocked::grad_weight: stride 1 only");
    if grad_weight.is_empty() || grad_output.is_empty() {
        return;
    }
    let isa = Isa::current();
    let x = Padded::input(g, input, 0);
    let layout = Layout::choose(x.cols, g.out_w);
    let row = layout.row(&x, g.out_w);
    // the upstream gradient with rows `row` long, zeros past each row's end
    let size = [g.out_h, g.out_w];
    let gy = Padded::new(grad_output, size, [0, 0], [1, 1], [g.out_h, row], 0);
    let (c, o, kw) = (g.in_channels, g.out_channels, g.kernel_w);
    let taps = g.kernel_h * kw;
    // vectorised over output channels when they fill at least 12 of 16 lanes
    let by_channel = o % LANES == 0 || o % LANES >= 12;
    // `by_channel` reads the upstream gradient transposed, in blocks of `width` channels
    let width = channel_blocks(o).0 * LANES;
    let n = Layout::positions(row, size);
    let transposed_per_entry = if by_channel {
        o.div_ceil(width) * n * width
    } else {
        0
    };
    // Batch entries per group: what the kernels read again for every block of taps (a compact
    // layout's copies of the group's inputs, the transposed upstream gradient) stays in the L2
    // cache, some 512 KB.
    let per_entry = transposed_per_entry
        + match layout {
            Layout::Wide => 0,
            Layout::Compact => c * kw * (g.out_h + (g.kernel_h - 1) * g.dilation_h) * g.out_w,
        };
    let group = ((128 << 10) / per_entry.max(1)).clamp(1, 64);
    // Adds the gradient from `entries` into `grad_weight`, a group at a time.
    let run = |entries: std::ops::Range<usize>, grad_weight: &mut [E]| {
        let mut scratch: Vec<Vec<E>> = (0..group).map(|_| Vec::new()).collect();
        // (the lanes past the last channel are never written: their sums are dropped)
        let mut transposed = Buffer::<E>::zeroed(transposed_per_entry * group);
        for first in entries.clone().step_by(group) {
            let last = (first + group).min(entries.end);
            let planes: Vec<Planes<'_, E>> = (first..last)
                .zip(scratch.iter_mut())
                .map(|(b, scratch)| layout.planes(g, &x, [b * c, c], [0, 0], size, scratch))
                .collect();
            let operands: Vec<WeightOperands<'_, E>> = (first..last)
                .zip(&planes)
                .map(|(b, planes)| WeightOperands {
                    grad_out: (b * o..(b + 1) * o).map(|plane| gy.plane(plane)).collect(),
                    x: (0..c * taps)
                        .map(|t| {
                            let (c, ky, kx) = (t / taps, t % taps / kw, t % kw);
                            let shift = ky * planes.row_step + kx * planes.col_step;
                            &planes.src[c * planes.plane + shift..]
                        })
                        .collect(),
                })
                .collect();
            debug_assert_eq!(n, planes[0].n);
            if by_channel {
                // the upstream gradient transposed: g[ob][p][lane] = gy[b, ob*W + lane][p]
                let chunks = transposed.chunks_exact_mut(transposed_per_entry);
                for (b, t) in (first..last).zip(chunks) {
                    for (ob, t) in t.chunks_exact_mut(n * width).enumerate() {
                        for (lane, plane) in (ob * width..((ob + 1) * width).min(o)).enumerate() {
                            let gy = &gy.plane(b * o + plane)[..n];
                            for (t, &v) in t[lane..].iter_mut().step_by(width).zip(gy) {
                                *t = v;
                            }
                        }
                    }
                }
                let operands: Vec<ChannelOperands<'_, E>> = operands
                    .into_iter()
                    .zip(transposed.chunks_exact(transposed_per_entry))
                    .map(|(e, t)| ChannelOperands {
                        grad_out_t: t,
                        x: e.x,
                    })
                    .collect();
                correlate_weights_by_channel(&operands, n, o, grad_weight, isa);
            } else {
                correlate_weights(&operands, n, grad_weight, isa);
            }
        }
    };
    if g.worth_threads() {
        add_per_thread_sums(g.batch, grad_weight, run);
    } else {
        run(0..g.batch, grad_weight);
    }
}

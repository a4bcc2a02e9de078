//! The plan of one convolution: which kernel computes each of its three passes and how, chosen
//! once per call from the geometry, the element type and the CPU, and kept by the backward
//! closure, so the gradients run the kernels the forward pass chose.
//!
//! A [`ConvPlan`] holds, per pass, a [`PassKernel`]: the register-blocked direct loops
//! ([`Blocked`]: the instruction set, the [`Layout`], the register blocking and whether the
//! kernel size is a compile-time constant), the plain strided loops, or im2col + GEMM (with its
//! tile width). [`ConvPlan::new`] picks them as measured (the README's "Convolution speed");
//! [`ConvOverride`], the one setting tests and benchmarks change, forces an algorithm, lowers
//! the instruction set, turns the compile-time kernel sizes off or cuts im2col's tiles small.
//!
//! Where the layers of deep models join: a grouped convolution is `groups` convolutions over
//! slices of the channels, so its plan is this plan for one group's geometry (plus a
//! depthwise kernel as one more [`PassKernel`]); a transposed convolution's forward pass *is*
//! a convolution's input gradient, so it runs the `grad_input` kernel of the plan of the
//! convolution it transposes.

use std::cell::Cell;

use super::cpu::Isa;
use super::layout::{padded_grad_output_size, padded_input_size, Layout};
use super::micro::{Avx2Kernels, Blocking, Taps};
use super::{direct, im2col, strided, winograd, ConvGeometry};
use crate::tensor::Element;

/// Which family of kernels computes a convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvAlgorithm {
    /// The direct loops: register-blocked for stride 1 (and for every input gradient), plain
    /// strided loops otherwise. Best for few channels and small kernels.
    Direct,
    /// im2col (the lecture's unroll, as a kernel) then matrix multiplies: best for many
    /// channels without a fast direct kernel.
    Im2col,
    /// Winograd's F(2x2, 3x3) then matrix multiplies, for 3x3 kernels with stride 1 and
    /// dilation 1 (2.25x fewer multiplies); any other geometry runs what `Auto` picks.
    Winograd,
    /// Each pass (forward, gradient of the input, gradient of the weight) by the kernel that
    /// is faster for its shape ([`ConvPlan::new`]): what convolutions use unless one is forced.
    Auto,
}

/// One of the three computations of a convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvPass {
    /// The output.
    Forward,
    /// The gradient with respect to the input.
    GradInput,
    /// The gradient with respect to the weight.
    GradWeight,
}

impl ConvPass {
    /// The three passes.
    pub const ALL: [ConvPass; 3] = [ConvPass::Forward, ConvPass::GradInput, ConvPass::GradWeight];
}

/// What tests and benchmarks may change in the plans made on a thread (every field `None` or
/// `false`: the plan [`ConvPlan::new`] picks). Set for the length of a closure with
/// [`ConvOverride::run`]; a plan keeps what it was made with, so a backward pass runs as its
/// forward pass was planned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConvOverride {
    /// Every pass by this family (`Auto`: as if unset).
    pub algorithm: Option<ConvAlgorithm>,
    /// The highest instruction set the blocked kernels may use. It can only lower the CPU's
    /// level: above it, the CPU's own level is used.
    pub isa: Option<Isa>,
    /// The blocked kernels loop over a run-time kernel size, even for the sizes that have a
    /// compile-time copy: for tests of that loop and for measuring what the copies buy.
    pub run_time_sizes: bool,
    /// The columns of every GEMM call: im2col's tiles are this many output positions wide,
    /// Winograd's blocks this many tiles (rounded up to whole rows of tiles). Tests make them
    /// small, so that they split batch entries and rows.
    pub gemm_columns: Option<usize>,
}

thread_local! {
    /// The override in force on this thread ([`ConvOverride::run`]).
    static OVERRIDE: Cell<ConvOverride> = const {
        Cell::new(ConvOverride {
            algorithm: None,
            isa: None,
            run_time_sizes: false,
            gemm_columns: None,
        })
    };
}

impl ConvOverride {
    /// The override in force on this thread.
    pub fn current() -> ConvOverride {
        OVERRIDE.get()
    }

    /// Runs `f` with `self` in force for every convolution planned on this thread (its
    /// backward pass too), then restores the previous override, even if `f` panics.
    ///
    /// ```
    /// use shapetorch::prelude::*;
    /// use shapetorch::ops::conv::{cpu::Isa, ConvOverride};
    /// let x = Tensor4::<f32, 2, 3, 9, 9>::randn(0);
    /// let w = Tensor4::<f32, 4, 3, 3, 3>::randn(1);
    /// let portable = ConvOverride { isa: Some(Isa::Portable), ..ConvOverride::default() };
    /// let y = portable.run(|| x.conv2d(&w, ConvParams::<1, 1, 1>));
    /// # let _ = y;
    /// ```
    pub fn run<R>(self, f: impl FnOnce() -> R) -> R {
        /// Restores the previous override on drop.
        struct Restore(ConvOverride);
        impl Drop for Restore {
            fn drop(&mut self) {
                OVERRIDE.set(self.0);
            }
        }
        let _restore = Restore(OVERRIDE.replace(self));
        f()
    }
}

impl ConvAlgorithm {
    /// The kernel families, for tests and benchmarks that compare them.
    pub const ALL: [ConvAlgorithm; 3] = [
        ConvAlgorithm::Direct,
        ConvAlgorithm::Im2col,
        ConvAlgorithm::Winograd,
    ];

    /// Runs `f` with every convolution planned on this thread computed by `self`, whatever
    /// the shape (its backward pass too): [`ConvOverride::run`] with this algorithm.
    ///
    /// ```
    /// use shapetorch::prelude::*;
    /// use shapetorch::ops::conv::ConvAlgorithm;
    /// let x = Tensor3::<f64, 1, 2, 8>::randn(0);
    /// let w = Tensor3::<f64, 3, 2, 3>::randn(1);
    /// let direct = ConvAlgorithm::Direct.force(|| x.conv1d(&w, ConvParams::<1, 0, 1>));
    /// let im2col = ConvAlgorithm::Im2col.force(|| x.conv1d(&w, ConvParams::<1, 0, 1>));
    /// for (a, b) in direct.as_slice().iter().zip(im2col.as_slice()) {
    ///     assert!((a - b).abs() < 1e-12);
    /// }
    /// ```
    pub fn force<R>(self, f: impl FnOnce() -> R) -> R {
        let algorithm = Some(self);
        ConvOverride {
            algorithm,
            ..ConvOverride::current()
        }
        .run(f)
    }
}

/// What computes one pass of a convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PassKernel {
    /// The register-blocked direct loops of `direct.rs` (stride 1 along both axes; the input's
    /// gradient at any stride).
    Blocked(Blocked),
    /// The plain direct loops of `strided.rs`, over the padded input: the forward pass and the
    /// weight's gradient at a stride above 1.
    Strided,
    /// im2col + GEMM (`im2col.rs`) on tiles of `tile_columns` output positions.
    Im2col {
        /// Output positions (columns of the unrolled matrix) per tile.
        tile_columns: usize,
    },
    /// Winograd's F(2x2, 3x3) + GEMM (`winograd.rs`): 3x3 kernels, stride 1, dilation 1, in
    /// blocks of about `block_tiles` 2x2 tiles (whole rows of them).
    Winograd {
        /// Tiles per block (columns of the block's GEMMs).
        block_tiles: usize,
        /// The instruction set of the transforms' copies.
        isa: Isa,
    },
}

/// How a blocked direct kernel runs: the instruction set of its copy, how it lays out the
/// planes it reads, how many sums it keeps in registers, and whether the loops over the
/// kernel's taps have their bounds as compile-time constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blocked {
    /// The copy of the micro-kernels that runs (supported by this CPU).
    pub isa: Isa,
    /// Wide or compact planes.
    pub layout: Layout,
    /// The register blocking.
    pub blocking: Blocking,
    /// A compile-time kernel size, or the run-time loop.
    pub taps: Taps,
}

/// Whether `E` is `f32` (the blocked kernels' fast copies are for `f32`; `f64` runs their
/// generic loops).
fn is_f32<E: Element>() -> bool {
    size_of::<E>() == 4
}

/// Which kernel computes each pass of one convolution, and how. Built once per call
/// ([`ConvPlan::new`]), then run ([`forward`](Self::forward),
/// [`grad_input`](Self::grad_input), [`grad_weight`](Self::grad_weight)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvPlan {
    geometry: ConvGeometry,
    /// Whether the plan is for `f32` (else `f64`): the kernels it picked are for that type.
    f32: bool,
    forward: PassKernel,
    grad_input: PassKernel,
    grad_weight: PassKernel,
}

impl ConvPlan {
    /// The plan for a convolution of geometry `g` in `E`, as measured on the 2-core AVX-512
    /// machine (one thread, `cargo bench --bench speed -- --kernels`; the README's table,
    /// "Convolution speed"), under the thread's [`ConvOverride`]:
    /// - below 2^17 multiply-adds both take microseconds and the direct loop, which needs no
    ///   scratch matrix, is as fast or faster;
    /// - with AVX-512 and f32, stride 1: the register-blocked direct kernels win the forward
    ///   pass on every shape measured (up to 4x on few channels; 1x1 kernels about even), the
    ///   input's gradient on planes from 20x20 up and on conv1d (below, the copies of the
    ///   padded upstream gradient cost more than they save: 25 vs 34 GFLOP/s on 12x12), and
    ///   the weight's gradient up to 32 output channels (LeNet's 6: 48 vs 29); with more,
    ///   im2col's GEMM wins that one on Intel (117 vs 91 on `x=[8,64,56,56] w=[64,64,3,3]`,
    ///   Xeon) and loses it on AMD (92-94 vs 68-73 there, 82 vs 56-68 on
    ///   `x=[32,32,32,32] w=[64,32,3,3]`, 54-70 vs 26-30 on a 1x1 kernel; EPYC with AVX-512,
    ///   whose cores split a 512-bit instruction in two halves), so AMD runs direct;
    /// - stride > 1 along either axis (direct computes the skipped positions' zeros) or
    ///   without AVX-512 (the portable copy has 4 lanes and no fused multiply-add, while the
    ///   GEMM crate has an AVX2 kernel) or in f64 (16-lane blocks of f64 take two registers
    ///   each and spill): im2col.
    pub fn new<E: Element>(g: &ConvGeometry) -> ConvPlan {
        let settings = ConvOverride::current();
        let algorithm = settings.algorithm.unwrap_or(ConvAlgorithm::Auto);
        let isa = match Isa::detected().min(settings.isa.unwrap_or(Isa::Avx512)) {
            // the AVX2 copies are f32's
            Isa::Avx2 if !is_f32::<E>() => Isa::Portable,
            isa => isa,
        };
        let plan_pass = |pass| {
            let algorithm = match algorithm {
                ConvAlgorithm::Winograd if !winograd::applies(g) => Self::auto::<E>(g, pass, isa),
                ConvAlgorithm::Auto => Self::auto::<E>(g, pass, isa),
                forced => forced,
            };
            match algorithm {
                ConvAlgorithm::Winograd => PassKernel::Winograd {
                    block_tiles: settings
                        .gemm_columns
                        .unwrap_or_else(|| winograd::block_tiles::<E>(g, pass)),
                    isa,
                },
                ConvAlgorithm::Im2col => PassKernel::Im2col {
                    tile_columns: settings
                        .gemm_columns
                        .unwrap_or_else(|| im2col::tile_columns::<E>(g)),
                },
                _ if pass != ConvPass::GradInput && !g.unit_stride() => PassKernel::Strided,
                _ => PassKernel::Blocked(Self::blocked::<E>(g, pass, isa, settings)),
            }
        };
        ConvPlan {
            geometry: *g,
            f32: is_f32::<E>(),
            forward: plan_pass(ConvPass::Forward),
            grad_input: plan_pass(ConvPass::GradInput),
            grad_weight: plan_pass(ConvPass::GradWeight),
        }
    }

    /// The plan with every pass by `algorithm` (as [`ConvAlgorithm::force`] would make it).
    pub fn with<E: Element>(g: &ConvGeometry, algorithm: ConvAlgorithm) -> ConvPlan {
        algorithm.force(|| ConvPlan::new::<E>(g))
    }

    /// The faster family for one pass of `g` in `E` with the blocked kernels' copies for
    /// `isa` (see [`new`](Self::new)).
    fn auto<E: Element>(g: &ConvGeometry, pass: ConvPass, isa: Isa) -> ConvAlgorithm {
        use ConvAlgorithm::{Direct, Im2col};
        if g.macs() < 1 << 17 {
            return Direct;
        }
        if !is_f32::<E>() || !g.unit_stride() {
            return Im2col;
        }
        match isa {
            Isa::Avx512 => Self::auto_avx512(g, pass),
            Isa::Avx2 => Self::auto_avx2(g, pass),
            Isa::Portable => Im2col,
        }
    }

    /// [`auto`](Self::auto) with AVX-512, f32, stride 1, as measured on the Xeon and the Zen 4
    /// EPYC (see [`new`](Self::new)). Winograd was not measured there: not picked.
    fn auto_avx512(g: &ConvGeometry, pass: ConvPass) -> ConvAlgorithm {
        use ConvAlgorithm::{Direct, Im2col};
        let big_planes = g.in_plane() >= 400 || g.in_h == 1;
        match pass {
            ConvPass::Forward => Direct,
            ConvPass::GradInput if big_planes => Direct,
            ConvPass::GradWeight if g.out_channels <= 32 || Isa::amd() => Direct,
            _ => Im2col,
        }
    }

    /// [`auto`](Self::auto) with AVX2 and FMA, f32, stride 1, as measured on the Zen 3 EPYC
    /// (one thread, on-CPU time, `cargo bench --bench speed -- --kernels --cpu`; the README's
    /// table, "Convolution speed"):
    /// - 3x3 kernels (stride 1, dilation 1) with 64 channels or more in and out: Winograd for
    ///   all three passes (on the ResNet-18 shapes, 1.1-1.8x the direct kernels' speed);
    /// - the forward pass: the direct kernels (1.3-4x im2col's on every shape but the 1x1,
    ///   where they are even);
    /// - the input's gradient: im2col's GEMM and fold, but on conv1d (the direct kernel pads
    ///   the upstream gradient of every plane and loses on 2-D planes: 39 against 47 GFLOP/s
    ///   on 32x32, 16 against 33 on 12x12);
    /// - the weight's gradient: the direct kernel when the output channels fill most of its
    ///   8-lane vectors (by channel: 1.2-2.4x im2col's), else im2col (LeNet's 6 channels:
    ///   7 against 11 GFLOP/s).
    fn auto_avx2(g: &ConvGeometry, pass: ConvPass) -> ConvAlgorithm {
        use ConvAlgorithm::{Direct, Im2col, Winograd};
        if winograd::applies(g) && g.in_channels >= 64 && g.out_channels >= 64 {
            return Winograd;
        }
        let by_channel = matches!(
            Blocking::weights(Isa::Avx2, g.out_channels),
            Blocking::ByChannel { .. }
        );
        match pass {
            ConvPass::Forward => Direct,
            ConvPass::GradInput if g.in_h == 1 => Direct,
            ConvPass::GradWeight if by_channel => Direct,
            _ => Im2col,
        }
    }

    /// How the blocked kernel runs `pass` of `g` with the copies for `isa`.
    fn blocked<E: Element>(
        g: &ConvGeometry,
        pass: ConvPass,
        isa: Isa,
        settings: ConvOverride,
    ) -> Blocked {
        // the padded planes' width, and the result's [height, width]
        let (cols, result) = match pass {
            ConvPass::GradInput => (padded_grad_output_size(g)[1], [g.in_h, g.in_w]),
            _ => (padded_input_size(g)[1], [g.out_h, g.out_w]),
        };
        let layout = Layout::choose(cols, result[1]);
        let positions = Layout::positions(layout.row(cols, result[1]), result);
        let blocking = match pass {
            ConvPass::Forward => Blocking::planes(isa, g.out_channels, positions),
            ConvPass::GradInput => Blocking::planes(isa, g.in_channels, positions),
            ConvPass::GradWeight => Blocking::weights(isa, g.out_channels),
        };
        let fixed = !settings.run_time_sizes && is_f32::<E>();
        let taps = Taps::new(isa, [g.kernel_h, g.kernel_w], fixed);
        Blocked {
            isa,
            layout,
            blocking,
            taps,
        }
    }

    /// The geometry planned for.
    pub fn geometry(&self) -> &ConvGeometry {
        &self.geometry
    }

    /// The kernel that runs `pass`.
    pub fn kernel(&self, pass: ConvPass) -> PassKernel {
        match pass {
            ConvPass::Forward => self.forward,
            ConvPass::GradInput => self.grad_input,
            ConvPass::GradWeight => self.grad_weight,
        }
    }

    /// Overwrites `output` with the convolution of `input` and `weight` (formula in
    /// [`ConvGeometry`]).
    pub fn forward<E: Element>(&self, input: &[E], weight: &[E], output: &mut [E]) {
        match Typed::new(input, weight, output) {
            Typed::F32(x, w, y) => self.forward_f32(x, w, y),
            Typed::F64(x, w, y) => self.forward_f64(x, w, y),
        }
    }

    /// Adds the gradient with respect to the input into `grad_input`.
    pub fn grad_input<E: Element>(&self, grad_output: &[E], weight: &[E], grad_input: &mut [E]) {
        match Typed::new(grad_output, weight, grad_input) {
            Typed::F32(gy, w, gx) => self.grad_input_f32(gy, w, gx),
            Typed::F64(gy, w, gx) => self.grad_input_f64(gy, w, gx),
        }
    }

    /// Adds the gradient with respect to the weight into `grad_weight`.
    pub fn grad_weight<E: Element>(&self, grad_output: &[E], input: &[E], grad_weight: &mut [E]) {
        match Typed::new(grad_output, input, grad_weight) {
            Typed::F32(gy, x, gw) => self.grad_weight_f32(gy, x, gw),
            Typed::F64(gy, x, gw) => self.grad_weight_f64(gy, x, gw),
        }
    }

    /// Runs one pass in `E`: the body of the typed entry points below.
    fn run<E: Element + Avx2Kernels>(&self, pass: ConvPass, a: &[E], b: &[E], out: &mut [E]) {
        assert_eq!(
            self.f32,
            is_f32::<E>(),
            "a convolution plan runs in the element type it was made for"
        );
        let g = &self.geometry;
        // Sizes of 0: the answer needs no kernel, so none has to handle them. An empty input
        // or weight (a batch, channel count or plane of 0) leaves the output zero (its
        // positions read only padding, or sum over no channel) and adds nothing to a gradient.
        let (input, weight, output) = match pass {
            ConvPass::Forward => (a.len(), b.len(), out.len()),
            ConvPass::GradInput => (out.len(), b.len(), a.len()),
            ConvPass::GradWeight => (b.len(), out.len(), a.len()),
        };
        g.check("conv", input, weight, output);
        if out.is_empty() || a.is_empty() || b.is_empty() {
            if pass == ConvPass::Forward {
                out.fill(E::zero());
            }
            return;
        }
        match (pass, self.kernel(pass)) {
            (ConvPass::Forward, PassKernel::Blocked(k)) => direct::forward(g, &k, a, b, out),
            (ConvPass::Forward, PassKernel::Strided) => strided::forward(g, a, b, out),
            (ConvPass::GradInput, PassKernel::Blocked(k)) => direct::grad_input(g, &k, a, b, out),
            (ConvPass::GradWeight, PassKernel::Blocked(k)) => direct::grad_weight(g, &k, a, b, out),
            (ConvPass::GradWeight, PassKernel::Strided) => strided::grad_weight(g, a, b, out),
            (ConvPass::GradInput, PassKernel::Strided) => {
                unreachable!(
                    "the input's gradient is a stride-1 correlation: never planned strided"
                )
            }
            (pass, PassKernel::Winograd { block_tiles, isa }) => {
                let winograd = winograd::Winograd::new(g, block_tiles, isa);
                match pass {
                    ConvPass::Forward => winograd.forward(a, b, out),
                    ConvPass::GradInput => winograd.grad_input(a, b, out),
                    ConvPass::GradWeight => winograd.grad_weight(a, b, out),
                }
            }
            (pass, PassKernel::Im2col { tile_columns }) => {
                let im2col = im2col::Im2col::new(g, tile_columns);
                match pass {
                    ConvPass::Forward => im2col.forward(a, b, out),
                    ConvPass::GradInput => im2col.grad_input(a, b, out),
                    ConvPass::GradWeight => im2col.grad_weight(a, b, out),
                }
            }
        }
    }
}

/// The entry points with a concrete element type, so that the kernels are compiled once,
/// inside this crate, at its opt-level: generic code is compiled in the crate that uses it,
/// and a user's debug build would otherwise run every kernel unoptimised (measured: 0.29 s
/// instead of 1.9 ms for LeNet's first layer, forward + backward), whatever
/// `[profile.dev.package.shapetorch]` says. `#[inline(never)]`: rustc otherwise offers small
/// functions for inlining into other crates, and an optimised user crate then compiles every
/// kernel again (measured: 49 s instead of 5 s to rebuild an example).
macro_rules! typed_entry_points {
    ($($name:ident: $pass:ident, $e:ty;)*) => {
        impl ConvPlan {
            $(
                #[inline(never)]
                fn $name(&self, a: &[$e], b: &[$e], out: &mut [$e]) {
                    self.run::<$e>(ConvPass::$pass, a, b, out)
                }
            )*
        }
    };
}

typed_entry_points! {
    forward_f32: Forward, f32;
    forward_f64: Forward, f64;
    grad_input_f32: GradInput, f32;
    grad_input_f64: GradInput, f64;
    grad_weight_f32: GradWeight, f32;
    grad_weight_f64: GradWeight, f64;
}

/// A kernel call's two inputs and output, seen as their concrete element type.
enum Typed<'a> {
    F32(&'a [f32], &'a [f32], &'a mut [f32]),
    F64(&'a [f64], &'a [f64], &'a mut [f64]),
}

impl<'a> Typed<'a> {
    fn new<E: Element>(a: &'a [E], b: &'a [E], out: &'a mut [E]) -> Self {
        const ONE_TYPE: &str = "a kernel's slices share one element type";
        match (E::as_f32(a), E::as_f32(b)) {
            (Some(a), Some(b)) => Typed::F32(a, b, E::as_f32_mut(out).expect(ONE_TYPE)),
            _ => Typed::F64(
                E::as_f64(a).expect(ONE_TYPE),
                E::as_f64(b).expect(ONE_TYPE),
                E::as_f64_mut(out).expect(ONE_TYPE),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_override_is_restored_after_its_closure_even_on_panic() {
        let outer = ConvOverride {
            run_time_sizes: true,
            ..ConvOverride::default()
        };
        outer.run(|| {
            let inner = ConvOverride {
                gemm_columns: Some(3),
                ..ConvOverride::default()
            };
            let caught = std::panic::catch_unwind(|| inner.run(|| panic!("inside")));
            assert!(caught.is_err());
            assert_eq!(ConvOverride::current(), outer);
            // force keeps the rest of the override in force
            ConvAlgorithm::Im2col.force(|| {
                let now = ConvOverride::current();
                assert_eq!(now.algorithm, Some(ConvAlgorithm::Im2col));
                assert!(now.run_time_sizes);
            });
        });
        assert_eq!(ConvOverride::current(), ConvOverride::default());
    }

    #[test]
    fn an_isa_override_lowers_the_level_and_never_raises_it() {
        let g = ConvGeometry {
            batch: 2,
            in_channels: 3,
            out_channels: 4,
            in_h: 8,
            in_w: 8,
            kernel_h: 3,
            kernel_w: 3,
            out_h: 6,
            out_w: 6,
            stride_h: 1,
            stride_w: 1,
            pad_top: 0,
            pad_left: 0,
            dilation_h: 1,
            dilation_w: 1,
        };
        let isa_of = |settings: ConvOverride| {
            let plan = ConvAlgorithm::Direct.force(|| settings.run(|| ConvPlan::new::<f32>(&g)));
            match plan.kernel(ConvPass::Forward) {
                PassKernel::Blocked(k) => k.isa,
                other => panic!("forced direct, planned {other:?}"),
            }
        };
        let cpu = Isa::detected();
        assert_eq!(isa_of(ConvOverride::default()), cpu);
        for isa in Isa::ALL {
            let capped = isa_of(ConvOverride {
                isa: Some(isa),
                ..ConvOverride::default()
            });
            // asking for a level gives at most what the CPU has: the claim the kernels'
            // `unsafe` calls rest on
            assert_eq!(capped, isa.min(cpu), "{isa:?}");
            assert!(capped.supported());
        }
    }
}

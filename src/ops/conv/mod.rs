//! Convolution: `conv1d` and `conv2d` with PyTorch semantics, the teaching convention, and
//! their gradients, with every shape relation checked by the compiler.
//!
//! `output[b, o, t] = sum_{c, k} weight[o, c, k] * input[b, c, t*stride + k*dilation - padding]`
//! (zero outside the input), like `torch.nn.functional.conv1d(input, weight, bias, stride,
//! padding, dilation)`; conv2d does the same over height and width. Shapes in words:
//! - conv1d: input `[B, C, W]`, weight `[O, C, K]`, bias `[O]` → `[B, O, W_out]`
//! - conv2d: input `[B, C, H, W]`, weight `[O, C, KH, KW]`, bias `[O]` → `[B, O, H_out, W_out]`
//!
//! with `W_out = (W + 2P - D(K-1) - 1)/S + 1`, computed by the compiler from the
//! [`ConvParams`] (stride `S`, padding `P`, dilation `D`, in PyTorch's order). The batch `B` may
//! be a runtime `usize`.
//!
//! ```
//! use shapetorch::prelude::*;
//! let x = Tensor3::<f32, 2, 3, 28>::randn(0);
//! let w = Tensor3::<f32, 4, 3, 5>::randn(1);
//! let y: Tensor3<f32, 2, 4, 24> = x.conv1d(&w, ConvParams::<1, 0, 1>);
//! let y2: Tensor3<f32, 2, 4, 14> = x.conv1d(&w, ConvParams::<2, 2, 1>); // (28 + 4 - 4 - 1)/2 + 1
//! # let _ = (y, y2);
//! ```
//!
//! The teaching convention ([`conv1d_minitorch`](Tensor::conv1d_minitorch)) keeps the input's
//! width and anchors the kernel at the left: `output[t] = sum_k weight[k] * input[t + k]`, zero
//! past the end. It is the same kernel with `K - 1` zeros of padding on the right only.
//!
//! Two kernels compute every convolution: a direct loop ([`direct`], register-blocked in
//! `blocked.rs` and compiled for AVX-512 next to the baseline, picked at run time by [`cpu`])
//! and the lecture's unroll (im2col) followed by matrix multiplies ([`unroll`]);
//! [`ConvAlgorithm`] picks one per pass and shape. Backward: the gradient of the input is the convolution of the upstream
//! gradient with the reversed kernel, anchored at the other end; the gradient of the weight
//! correlates the input with the upstream gradient; the bias's sums the upstream gradient.
//!
//! Files: [`geometry`](ConvGeometry) holds the run-time sizes; [`naive`] (the reference loops),
//! [`direct`] and [`unroll`] the kernels, each with forward, grad-input and grad-weight.

mod blocked;
pub mod cpu;
pub mod direct;
mod geometry;
#[cfg(test)]
mod kernel_tests;
pub mod naive;
mod padded;
pub mod unroll;

pub use blocked::run_time_sizes;
pub use geometry::ConvGeometry;

use std::cell::Cell;

use crate::autodiff::{Gradients, Tape};
use crate::shape::{
    BiasMatches, ChannelsMatch, ConvOut, DilationNonZero, Dim, DimEq, Dimension, KernelFitsHeight,
    KernelFitsWidth, Shape, StrideNonZero,
};
use crate::tensor::{Element, Tensor};

/// Convolution hyper-parameters as types, in PyTorch's order: `ConvParams::<STRIDE, PADDING,
/// DILATION>`. Padding is the number of zeros on each side; stride and dilation apply to every
/// spatial axis. Trailing ones may be left out (`ConvParams::<2>` is stride 2, no padding,
/// dilation 1); `ConvParams::DEFAULT` is `<1, 0, 1>`.
///
/// ```
/// use shapetorch::prelude::*;
/// let x = Tensor3::<f32, 2, 3, 10>::zeros();
/// let w = Tensor3::<f32, 4, 3, 3>::zeros();
/// let _: Tensor3<f32, 2, 4, 8> = x.conv1d(&w, ConvParams::DEFAULT);
/// let _: Tensor3<f32, 2, 4, 4> = x.conv1d(&w, ConvParams::<2>); // (10 - 3)/2 + 1
/// let _: Tensor3<f32, 2, 4, 5> = x.conv1d(&w, ConvParams::<2, 1>); // (10 + 2 - 3)/2 + 1
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConvParams<const STRIDE: usize = 1, const PADDING: usize = 0, const DILATION: usize = 1>;

impl ConvParams {
    /// PyTorch's defaults: stride 1, no padding, dilation 1. (`ConvParams::default()` cannot
    /// pick them: Rust does not infer const generics from their defaults.)
    pub const DEFAULT: ConvParams<1, 0, 1> = ConvParams;
}

/// Which kernel computes a convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvAlgorithm {
    /// The direct loops ([`direct`]; register-blocked for stride 1): best for few channels
    /// and small kernels.
    Direct,
    /// Unroll (im2col) then matrix multiplies ([`unroll`]): best for many channels.
    Unroll,
    /// Each pass (forward, gradient of the input, gradient of the weight) by the kernel that
    /// is faster for its shape ([`ConvAlgorithm::for_pass`]): what convolutions use unless one
    /// is forced.
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

thread_local! {
    /// The algorithm forced on this thread by [`ConvAlgorithm::force`], if any.
    static FORCED: Cell<Option<ConvAlgorithm>> = const { Cell::new(None) };
}

impl ConvAlgorithm {
    /// The two kernels, for tests and benchmarks that compare them.
    pub const ALL: [ConvAlgorithm; 2] = [ConvAlgorithm::Direct, ConvAlgorithm::Unroll];

    /// Runs `f` with every convolution started on this thread computed by `self`, whatever
    /// the shape (its backward pass too): for tests and benchmarks that compare the kernels.
    ///
    /// ```
    /// use shapetorch::prelude::*;
    /// use shapetorch::ops::conv::ConvAlgorithm;
    /// let x = Tensor3::<f64, 1, 2, 8>::randn(0);
    /// let w = Tensor3::<f64, 3, 2, 3>::randn(1);
    /// let direct = ConvAlgorithm::Direct.force(|| x.conv1d(&w, ConvParams::<1, 0, 1>));
    /// let unroll = ConvAlgorithm::Unroll.force(|| x.conv1d(&w, ConvParams::<1, 0, 1>));
    /// for (a, b) in direct.as_slice().iter().zip(unroll.as_slice()) {
    ///     assert!((a - b).abs() < 1e-12);
    /// }
    /// ```
    pub fn force<R>(self, f: impl FnOnce() -> R) -> R {
        /// Restores the previous choice even if `f` panics.
        struct Restore(Option<ConvAlgorithm>);
        impl Drop for Restore {
            fn drop(&mut self) {
                FORCED.set(self.0);
            }
        }
        let _restore = Restore(FORCED.replace(Some(self)));
        f()
    }

    /// The algorithm a convolution of geometry `g` runs with: the forced one, or
    /// [`for_geometry`](Self::for_geometry).
    pub fn pick(g: &ConvGeometry) -> Self {
        FORCED.get().unwrap_or_else(|| Self::for_geometry(g))
    }

    /// The algorithm for this shape when none is forced: [`Auto`](Self::Auto), which picks per
    /// pass ([`for_pass`](Self::for_pass)).
    pub fn for_geometry(_g: &ConvGeometry) -> Self {
        ConvAlgorithm::Auto
    }

    /// The faster kernel for one pass of this shape in `E` (`Direct` or `Unroll`), as measured
    /// on the 2-core AVX-512 machine, one thread (`cargo bench --bench speed -- --kernels`;
    /// the table in the README, "Convolution speed"):
    /// - below 2^17 multiply-adds both take microseconds and the direct loop, which needs no
    ///   scratch matrix, is as fast or faster;
    /// - with AVX-512 and f32, stride 1: the register-blocked direct kernels win the forward
    ///   pass on every shape measured (up to 4x on few channels; 1x1 kernels about even), the
    ///   input's gradient on planes from 20x20 up and on conv1d (below, the copies of the
    ///   padded upstream gradient cost more than they save: 25 vs 34 GFLOP/s on 12x12), and
    ///   the weight's gradient up to 32 output channels (LeNet's 6: 48 vs 29); with more,
    ///   unroll's GEMM wins that one (117 vs 91 on `x=[8,64,56,56] w=[64,64,3,3]`);
    /// - stride > 1 (direct computes the skipped positions' zeros) or without AVX-512 (the
    ///   portable copy has 4 lanes and no fused multiply-add, while the GEMM crate has an AVX2
    ///   kernel) or in f64 (16-lane blocks of f64 take two registers each and spill): unroll.
    pub fn for_pass<E: Element>(g: &ConvGeometry, pass: ConvPass) -> Self {
        use ConvAlgorithm::{Direct, Unroll};
        let blocked_fast = cpu::Isa::current() == cpu::Isa::Avx512 && size_of::<E>() == 4;
        if g.macs() < 1 << 17 {
            return Direct;
        }
        let big_planes = g.in_plane() >= 400 || g.in_h == 1;
        match pass {
            _ if !blocked_fast || g.stride != 1 => Unroll,
            ConvPass::Forward => Direct,
            ConvPass::GradInput if big_planes => Direct,
            ConvPass::GradWeight if g.out_channels <= 32 => Direct,
            _ => Unroll,
        }
    }

    /// The kernel that runs `pass`: `self`, or for `Auto` the one [`for_pass`](Self::for_pass)
    /// picks.
    fn resolve<E: Element>(self, g: &ConvGeometry, pass: ConvPass) -> Self {
        match self {
            ConvAlgorithm::Auto => Self::for_pass::<E>(g, pass),
            forced => forced,
        }
    }

    fn forward<E: Element>(self, g: &ConvGeometry, input: &[E], weight: &[E], output: &mut [E]) {
        match Typed::new(input, weight, output) {
            Typed::F32(x, w, y) => self.forward_f32(g, x, w, y),
            Typed::F64(x, w, y) => self.forward_f64(g, x, w, y),
        }
    }

    fn grad_input<E: Element>(
        self,
        g: &ConvGeometry,
        grad_output: &[E],
        weight: &[E],
        grad_input: &mut [E],
    ) {
        match Typed::new(grad_output, weight, grad_input) {
            Typed::F32(gy, w, gx) => self.grad_input_f32(g, gy, w, gx),
            Typed::F64(gy, w, gx) => self.grad_input_f64(g, gy, w, gx),
        }
    }

    fn grad_weight<E: Element>(
        self,
        g: &ConvGeometry,
        grad_output: &[E],
        input: &[E],
        grad_weight: &mut [E],
    ) {
        match Typed::new(grad_output, input, grad_weight) {
            Typed::F32(gy, x, gw) => self.grad_weight_f32(g, gy, x, gw),
            Typed::F64(gy, x, gw) => self.grad_weight_f64(g, gy, x, gw),
        }
    }

    /// Runs one pass in `E`: the body of the typed entry points below.
    fn run<E: Element>(self, pass: ConvPass, g: &ConvGeometry, a: &[E], b: &[E], out: &mut [E]) {
        use ConvAlgorithm::Unroll;
        match (pass, self.resolve::<E>(g, pass)) {
            (ConvPass::Forward, Unroll) => unroll::forward(g, a, b, out),
            (ConvPass::Forward, _) => direct::forward(g, a, b, out),
            (ConvPass::GradInput, Unroll) => unroll::grad_input(g, a, b, out),
            (ConvPass::GradInput, _) => direct::grad_input(g, a, b, out),
            (ConvPass::GradWeight, Unroll) => unroll::grad_weight(g, a, b, out),
            (ConvPass::GradWeight, _) => direct::grad_weight(g, a, b, out),
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
        impl ConvAlgorithm {
            $(
                #[inline(never)]
                fn $name(self, g: &ConvGeometry, a: &[$e], b: &[$e], out: &mut [$e]) {
                    self.run::<$e>(ConvPass::$pass, g, a, b, out)
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

/// Runs a convolution described by `g` and records its backward pass: the shared body of
/// every public conv function (conv1d is a conv2d of height 1).
fn conv_op<E: Element, Sx: Shape, Sw: Shape, Sb: Shape, So: Shape>(
    g: ConvGeometry,
    input: &Tensor<E, Sx>,
    weight: &Tensor<E, Sw>,
    bias: Option<&Tensor<E, Sb>>,
    out_shape: So,
) -> Tensor<E, So> {
    debug_assert_eq!(g.output_len(), out_shape.numel());
    let algorithm = ConvAlgorithm::pick(&g);
    let mut output = vec![E::zero(); g.output_len()];
    algorithm.forward(&g, input.as_slice(), weight.as_slice(), &mut output);
    let plane = g.out_h * g.out_w;
    if let Some(bias) = bias {
        // output[b, o, ..] += bias[o]
        for (i, out_plane) in output.chunks_mut(plane).enumerate() {
            let b_o = bias.as_slice()[i % g.out_channels];
            out_plane.iter_mut().for_each(|v| *v += b_o);
        }
    }
    let none = None;
    let bias_tape = bias.map_or(&none, |b| b.tape_slot());
    let tape = Tape::join(&[input.tape_slot(), weight.tape_slot(), bias_tape]);
    let (x, w) = (input.data_arc(), weight.data_arc());
    let x_grad = input.is_traced().then_some(input.id());
    let w_grad = weight.is_traced().then_some(weight.id());
    let b_grad = bias.filter(|b| b.is_traced()).map(|b| b.id());
    Tensor::from_op(
        out_shape,
        output,
        tape,
        move |grad_out, grads: &mut Gradients<E>| {
            if let Some(id) = x_grad {
                algorithm.grad_input(&g, grad_out, &w, grads.slot(id, g.input_len()));
            }
            if let Some(id) = w_grad {
                algorithm.grad_weight(&g, grad_out, &x, grads.slot(id, g.weight_len()));
            }
            if let Some(id) = b_grad {
                // grad_bias[o] += sum_{b, oy, ox} grad_out[b, o, oy, ox]
                let grad_bias = grads.slot(id, g.out_channels);
                for (i, out_plane) in grad_out.chunks(plane).enumerate() {
                    grad_bias[i % g.out_channels] += out_plane.iter().copied().sum::<E>();
                }
            }
        },
    )
}

/// The output shape of conv1d on a `[B, C, W]` input.
type Conv1dOut<
    B,
    const O: usize,
    const W: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const D: usize,
> = (B, Dim<O>, <Dim<W> as ConvOut<K, S, P, D>>::Output);

impl<E: Element, B: Dimension, const C: usize, const W: usize> Tensor<E, (B, Dim<C>, Dim<W>)> {
    fn geometry_1d(
        &self,
        out_channels: usize,
        k: usize,
        out_w: usize,
        stride: usize,
        pad_left: usize,
        dilation: usize,
    ) -> ConvGeometry {
        ConvGeometry {
            batch: self.shape().0.size(),
            in_channels: C,
            out_channels,
            in_h: 1,
            in_w: W,
            kernel_h: 1,
            kernel_w: k,
            out_h: 1,
            out_w,
            stride,
            pad_top: 0,
            pad_left,
            dilation,
        }
    }

    /// 1-D convolution `[B, C, W] * [O, C, K] -> [B, O, W_out]`, like
    /// `torch.nn.functional.conv1d(input, weight, stride=S, padding=P, dilation=D)`.
    ///
    /// Compile errors: the weight's in-channels differ from the input's; the dilated kernel is
    /// wider than the padded input; stride or dilation is zero.
    pub fn conv1d<
        const O: usize,
        const WC: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const D: usize,
    >(
        &self,
        weight: &Tensor<E, (Dim<O>, Dim<WC>, Dim<K>)>,
        _params: ConvParams<S, P, D>,
    ) -> Tensor<E, Conv1dOut<B, O, W, K, S, P, D>>
    where
        Dim<C>: DimEq<WC>,
        <Dim<C> as DimEq<WC>>::Bit: ChannelsMatch<C, WC>,
        Dim<W>: ConvOut<K, S, P, D>,
        <Dim<W> as ConvOut<K, S, P, D>>::Fits: KernelFitsWidth<W, K, P, D>,
        <Dim<W> as ConvOut<K, S, P, D>>::StrideOk: StrideNonZero<S>,
        <Dim<W> as ConvOut<K, S, P, D>>::DilationOk: DilationNonZero<D>,
    {
        let out_w = <Dim<W> as ConvOut<K, S, P, D>>::Output::default();
        let g = self.geometry_1d(O, K, out_w.size(), S, P, D);
        conv_op::<E, _, _, (Dim<O>,), _>(g, self, weight, None, (self.shape().0, Dim, out_w))
    }

    /// [`conv1d`](Self::conv1d) plus a bias `[O]` added to every output position, like
    /// `torch.nn.functional.conv1d(input, weight, bias, ...)`. A bias of the wrong length is a
    /// compile error.
    pub fn conv1d_bias<
        const O: usize,
        const WC: usize,
        const BL: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const D: usize,
    >(
        &self,
        weight: &Tensor<E, (Dim<O>, Dim<WC>, Dim<K>)>,
        bias: &Tensor<E, (Dim<BL>,)>,
        _params: ConvParams<S, P, D>,
    ) -> Tensor<E, Conv1dOut<B, O, W, K, S, P, D>>
    where
        Dim<C>: DimEq<WC>,
        <Dim<C> as DimEq<WC>>::Bit: ChannelsMatch<C, WC>,
        Dim<BL>: DimEq<O>,
        <Dim<BL> as DimEq<O>>::Bit: BiasMatches<BL, O>,
        Dim<W>: ConvOut<K, S, P, D>,
        <Dim<W> as ConvOut<K, S, P, D>>::Fits: KernelFitsWidth<W, K, P, D>,
        <Dim<W> as ConvOut<K, S, P, D>>::StrideOk: StrideNonZero<S>,
        <Dim<W> as ConvOut<K, S, P, D>>::DilationOk: DilationNonZero<D>,
    {
        let out_w = <Dim<W> as ConvOut<K, S, P, D>>::Output::default();
        let g = self.geometry_1d(O, K, out_w.size(), S, P, D);
        conv_op(g, self, weight, Some(bias), (self.shape().0, Dim, out_w))
    }

    /// The teaching convention: `[B, C, W] * [O, C, K] -> [B, O, W]`, the output as wide as the
    /// input, the kernel anchored at the left, zero past the end:
    /// `output[b, o, t] = sum_{c, k} weight[o, c, k] * input[b, c, t + k]`.
    /// Equals [`conv1d`](Self::conv1d) on the input padded with `K - 1` zeros on the right.
    pub fn conv1d_minitorch<const O: usize, const WC: usize, const K: usize>(
        &self,
        weight: &Tensor<E, (Dim<O>, Dim<WC>, Dim<K>)>,
    ) -> Tensor<E, (B, Dim<O>, Dim<W>)>
    where
        Dim<C>: DimEq<WC>,
        <Dim<C> as DimEq<WC>>::Bit: ChannelsMatch<C, WC>,
    {
        let g = self.geometry_1d(O, K, W, 1, 0, 1);
        conv_op::<E, _, _, (Dim<O>,), _>(g, self, weight, None, (self.shape().0, Dim, Dim))
    }
}

/// The output shape of conv2d on a `[B, C, H, W]` input.
type Conv2dOut<
    B,
    const O: usize,
    const H: usize,
    const W: usize,
    const KH: usize,
    const KW: usize,
    const S: usize,
    const P: usize,
    const D: usize,
> = (
    B,
    Dim<O>,
    <Dim<H> as ConvOut<KH, S, P, D>>::Output,
    <Dim<W> as ConvOut<KW, S, P, D>>::Output,
);

impl<E: Element, B: Dimension, const C: usize, const H: usize, const W: usize>
    Tensor<E, (B, Dim<C>, Dim<H>, Dim<W>)>
{
    #[allow(clippy::too_many_arguments)]
    fn geometry_2d(
        &self,
        out_channels: usize,
        kh: usize,
        kw: usize,
        out_h: usize,
        out_w: usize,
        stride: usize,
        padding: usize,
        dilation: usize,
    ) -> ConvGeometry {
        ConvGeometry {
            batch: self.shape().0.size(),
            in_channels: C,
            out_channels,
            in_h: H,
            in_w: W,
            kernel_h: kh,
            kernel_w: kw,
            out_h,
            out_w,
            stride,
            pad_top: padding,
            pad_left: padding,
            dilation,
        }
    }

    /// 2-D convolution `[B, C, H, W] * [O, C, KH, KW] -> [B, O, H_out, W_out]`, like
    /// `torch.nn.functional.conv2d(input, weight, stride=S, padding=P, dilation=D)`.
    ///
    /// Compile errors: the weight's in-channels differ from the input's; the dilated kernel is
    /// taller or wider than the padded input; stride or dilation is zero.
    pub fn conv2d<
        const O: usize,
        const WC: usize,
        const KH: usize,
        const KW: usize,
        const S: usize,
        const P: usize,
        const D: usize,
    >(
        &self,
        weight: &Tensor<E, (Dim<O>, Dim<WC>, Dim<KH>, Dim<KW>)>,
        _params: ConvParams<S, P, D>,
    ) -> Tensor<E, Conv2dOut<B, O, H, W, KH, KW, S, P, D>>
    where
        Dim<C>: DimEq<WC>,
        <Dim<C> as DimEq<WC>>::Bit: ChannelsMatch<C, WC>,
        Dim<H>: ConvOut<KH, S, P, D>,
        Dim<W>: ConvOut<KW, S, P, D>,
        <Dim<H> as ConvOut<KH, S, P, D>>::Fits: KernelFitsHeight<H, KH, P, D>,
        <Dim<W> as ConvOut<KW, S, P, D>>::Fits: KernelFitsWidth<W, KW, P, D>,
        <Dim<W> as ConvOut<KW, S, P, D>>::StrideOk: StrideNonZero<S>,
        <Dim<W> as ConvOut<KW, S, P, D>>::DilationOk: DilationNonZero<D>,
    {
        let out_h = <Dim<H> as ConvOut<KH, S, P, D>>::Output::default();
        let out_w = <Dim<W> as ConvOut<KW, S, P, D>>::Output::default();
        let g = self.geometry_2d(O, KH, KW, out_h.size(), out_w.size(), S, P, D);
        conv_op::<E, _, _, (Dim<O>,), _>(g, self, weight, None, (self.shape().0, Dim, out_h, out_w))
    }

    /// [`conv2d`](Self::conv2d) plus a bias `[O]` added to every output position, like
    /// `torch.nn.functional.conv2d(input, weight, bias, ...)`. A bias of the wrong length is a
    /// compile error.
    #[allow(clippy::type_complexity)]
    pub fn conv2d_bias<
        const O: usize,
        const WC: usize,
        const BL: usize,
        const KH: usize,
        const KW: usize,
        const S: usize,
        const P: usize,
        const D: usize,
    >(
        &self,
        weight: &Tensor<E, (Dim<O>, Dim<WC>, Dim<KH>, Dim<KW>)>,
        bias: &Tensor<E, (Dim<BL>,)>,
        _params: ConvParams<S, P, D>,
    ) -> Tensor<E, Conv2dOut<B, O, H, W, KH, KW, S, P, D>>
    where
        Dim<C>: DimEq<WC>,
        <Dim<C> as DimEq<WC>>::Bit: ChannelsMatch<C, WC>,
        Dim<BL>: DimEq<O>,
        <Dim<BL> as DimEq<O>>::Bit: BiasMatches<BL, O>,
        Dim<H>: ConvOut<KH, S, P, D>,
        Dim<W>: ConvOut<KW, S, P, D>,
        <Dim<H> as ConvOut<KH, S, P, D>>::Fits: KernelFitsHeight<H, KH, P, D>,
        <Dim<W> as ConvOut<KW, S, P, D>>::Fits: KernelFitsWidth<W, KW, P, D>,
        <Dim<W> as ConvOut<KW, S, P, D>>::StrideOk: StrideNonZero<S>,
        <Dim<W> as ConvOut<KW, S, P, D>>::DilationOk: DilationNonZero<D>,
    {
        let out_h = <Dim<H> as ConvOut<KH, S, P, D>>::Output::default();
        let out_w = <Dim<W> as ConvOut<KW, S, P, D>>::Output::default();
        let g = self.geometry_2d(O, KH, KW, out_h.size(), out_w.size(), S, P, D);
        conv_op(
            g,
            self,
            weight,
            Some(bias),
            (self.shape().0, Dim, out_h, out_w),
        )
    }

    /// The teaching convention in 2-D: `[B, C, H, W] * [O, C, KH, KW] -> [B, O, H, W]`, the
    /// kernel anchored at the top-left, zero past the bottom and right edges:
    /// `output[b, o, i, j] = sum_{c, ki, kj} weight[o, c, ki, kj] * input[b, c, i + ki, j + kj]`.
    pub fn conv2d_minitorch<const O: usize, const WC: usize, const KH: usize, const KW: usize>(
        &self,
        weight: &Tensor<E, (Dim<O>, Dim<WC>, Dim<KH>, Dim<KW>)>,
    ) -> Tensor<E, (B, Dim<O>, Dim<H>, Dim<W>)>
    where
        Dim<C>: DimEq<WC>,
        <Dim<C> as DimEq<WC>>::Bit: ChannelsMatch<C, WC>,
    {
        let mut g = self.geometry_2d(O, KH, KW, H, W, 1, 0, 1);
        g.pad_top = 0;
        conv_op::<E, _, _, (Dim<O>,), _>(g, self, weight, None, (self.shape().0, Dim, Dim, Dim))
    }
}

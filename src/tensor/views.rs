//! Shape changes: `reshape` (checked element count), `flatten` and `unflatten` (per-sample
//! reshapes that keep the batch dim, which may be a runtime `usize`), `permute`/`t` (reordered
//! dims) and `broadcast` (a new axis, repeated), each with its gradient. Each takes its shape
//! relation ([`ReshapeShape`], [`FlattenShape`], [`UnflattenShape`], [`PermuteShape`]) as its one
//! bound, which is also what generic code writes.
//!
//! Storage stays contiguous: a permute or broadcast copies into the new layout, which keeps
//! every kernel downstream simple (one row-major layout to handle).
//!
//! ```
//! use shapetorch::prelude::*;
//! let x = Tensor2::<f32, 2, 3>::from_fn(|[i, j]| (3 * i + j) as f32);
//! let flat: Tensor1<f32, 6> = x.reshape();
//! let xt: Tensor2<f32, 3, 2> = x.t();
//! assert_eq!(xt.to_vec(), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
//! let bias = Tensor1::<f32, 3>::from_slice(&[1.0, 2.0, 3.0]).unwrap();
//! let rows: Tensor2<f32, 2, 3> = bias.broadcast::<0, _>();
//! assert_eq!((&x + &rows).to_vec(), vec![1.0, 3.0, 5.0, 4.0, 6.0, 8.0]);
//! # assert_eq!(flat.to_vec(), x.to_vec());
//! // A runtime batch of 3 images [16, 5, 5]: 400 features each, computed by the compiler.
//! let maps = Tensor::<f32, (usize, Dim<16>, Dim<5>, Dim<5>)>::zeros_shaped((3, Dim, Dim, Dim));
//! let features: Tensor<f32, (usize, Dim<400>)> = maps.flatten();
//! let back: Tensor<f32, (usize, Dim<16>, Dim<25>)> = features.unflatten();
//! assert_eq!(back.dims(), [3, 16, 25]);
//! ```

use super::reduce::split_at_axis;
use super::{Element, Tensor};
use crate::memory::Buffer;
use crate::shape::{
    fmt_dims, Axes2, Axes3, Axes4, ConstShape, FlattenTo, PermuteShape, Permuted, RemoveAxis,
    ReshapeShape, Shape, UnflattenShape,
};

impl<E: Element, S: Shape> Tensor<E, S> {
    /// The same elements in a shape of equal element count, computed by the compiler:
    /// `[2, 3, 4] -> [6, 4]` compiles, `[2, 3] -> [4, 2]` does not ("reshape: the input
    /// `(Dim<2>, Dim<3>)` has 6 elements but the target `(Dim<4>, Dim<2>)` has 8"). Like
    /// `torch.reshape`.
    ///
    /// Both shapes must be static with dims up to 4096 (the element counts may be larger). With
    /// a runtime batch dim use [`flatten`](Self::flatten) or [`unflatten`](Self::unflatten),
    /// which check the per-sample count; with other runtime dims,
    /// [`reshape_to`](Self::reshape_to), checked when it runs.
    pub fn reshape<Dst: Shape + Default>(&self) -> Tensor<E, Dst>
    where
        S: ReshapeShape<Dst>,
    {
        self.reshape_to(Dst::default())
    }

    /// `[B, D1, D2, ..] -> [B, D1 * D2 * ..]` (rank 3 to 5), the per-sample size computed by the
    /// compiler and the batch dim kept (a runtime `usize` or a `Dim`), like
    /// `torch.flatten(x, 1)`: what goes between the convolutions and the linear layers. The
    /// gradient is reshaped back.
    ///
    /// ```
    /// use shapetorch::prelude::*;
    /// let x = Tensor::<f32, (usize, Dim<16>, Dim<5>, Dim<5>)>::zeros_shaped((8, Dim, Dim, Dim));
    /// let y: Tensor<f32, (usize, Dim<400>)> = x.flatten();
    /// assert_eq!(y.dims(), [8, 400]);
    /// ```
    pub fn flatten<Out: Shape>(&self) -> Tensor<E, Out>
    where
        S: FlattenTo<Out>,
    {
        self.reshape_to(self.shape().flattened())
    }

    /// Reshapes every sample and keeps the batch dim: `[B, 400] -> [B, 16, 5, 5]` (the inverse
    /// of [`flatten`](Self::flatten), like `torch.nn.Unflatten(1, (16, 5, 5))`), or any other
    /// per-sample reshape such as `[B, 16, 5, 5] -> [B, 16, 25]`. The batch dim may be a runtime
    /// `usize`; the compiler checks that a sample keeps its element count. The gradient is
    /// reshaped back.
    ///
    /// ```
    /// use shapetorch::prelude::*;
    /// let x = Tensor::<f32, (usize, Dim<400>)>::zeros_shaped((8, Dim));
    /// let y: Tensor<f32, (usize, Dim<16>, Dim<5>, Dim<5>)> = x.unflatten();
    /// assert_eq!(y.dims(), [8, 16, 5, 5]);
    /// ```
    pub fn unflatten<Dst: Shape>(&self) -> Tensor<E, Dst>
    where
        S: UnflattenShape<Dst>,
    {
        self.reshape_to(self.shape().unflattened())
    }

    /// The same elements in the shape `dst`, which may hold runtime dims; panics naming both
    /// shapes when the element counts differ.
    pub fn reshape_to<Dst: Shape>(&self, dst: Dst) -> Tensor<E, Dst> {
        assert!(
            dst.numel() == self.numel(),
            "reshape: {} has {} elements, {} has {}",
            fmt_dims(self.dims().as_ref()),
            self.numel(),
            fmt_dims(dst.dims().as_ref()),
            dst.numel()
        );
        let x_id = self.id();
        // The same storage, seen in another shape: no copy.
        Tensor::from_op(
            "reshape",
            dst,
            self.storage(),
            &[self],
            move |grad_y, grads| {
                grads.add(x_id, grad_y);
            },
        )
    }

    /// Copies into the layout where output axis `i` is input axis `axes[i]`.
    fn permute_by<Dst: Shape>(&self, dst: Dst, axes: &[usize]) -> Tensor<E, Dst> {
        let src_strides = self.shape().strides();
        // stride in the input of each output axis
        let strides: Vec<usize> = axes.iter().map(|&a| src_strides.as_ref()[a]).collect();
        // output[flat] = input[source(flat)], where source sums index * stride over the axes
        let source = move |flat: usize| -> usize {
            let index = dst.unravel(flat);
            index
                .as_ref()
                .iter()
                .zip(&strides)
                .map(|(i, s)| i * s)
                .sum()
        };
        let x = self.as_slice();
        let mut out = Buffer::for_overwrite(dst.numel());
        for (flat, y) in out.iter_mut().enumerate() {
            *y = x[source(flat)];
        }
        let (x_id, len) = (self.id(), self.numel());
        // The backward pass recomputes the sources instead of keeping a table of them.
        Tensor::from_op("permute", dst, out, &[self], move |grad_y, grads| {
            let grad_x = grads.accumulator(x_id, len);
            for (flat, &g) in grad_y.iter().enumerate() {
                grad_x[source(flat)] += g;
            }
        })
    }

    /// Repeats this tensor along a new axis `I` of the static shape `Dst`: `[3] -> [2, 3]`
    /// with `I = 0`. The gradient sums over the new axis. Like `torch.Tensor.expand`.
    pub fn broadcast<const I: usize, Dst>(&self) -> Tensor<E, Dst>
    where
        Dst: ConstShape + RemoveAxis<I, Output = S>,
    {
        self.broadcast_to::<I, Dst>(Dst::default())
    }

    /// [`broadcast`](Self::broadcast) into a shape with runtime dims; panics naming both shapes
    /// if `dst` without axis `I` is not this tensor's shape.
    pub fn broadcast_to<const I: usize, Dst>(&self, dst: Dst) -> Tensor<E, Dst>
    where
        Dst: RemoveAxis<I, Output = S>,
    {
        assert!(
            dst.remove() == *self.shape(),
            "broadcast: {} does not extend {} along axis {I}",
            fmt_dims(dst.dims().as_ref()),
            fmt_dims(self.dims().as_ref())
        );
        let (outer, n, inner) = split_at_axis(dst.dims().as_ref(), I);
        let x = self.as_slice();
        let mut out = Buffer::for_overwrite(dst.numel());
        for (o, rows) in out.chunks_mut((n * inner).max(1)).enumerate() {
            for row in rows.chunks_mut(inner.max(1)) {
                row.copy_from_slice(&x[o * inner..][..inner]);
            }
        }
        let x_id = self.id();
        Tensor::from_op("broadcast", dst, out, &[self], move |grad_y, grads| {
            let grad_x = grads.accumulator(x_id, outer * inner);
            for o in 0..outer {
                for k in 0..n {
                    let src = &grad_y[(o * n + k) * inner..][..inner];
                    for (g, &s) in grad_x[o * inner..][..inner].iter_mut().zip(src) {
                        *g += s;
                    }
                }
            }
        })
    }
}

impl<E: Element, A: crate::shape::Dimension, B: crate::shape::Dimension> Tensor<E, (A, B)> {
    /// The transpose `[A, B] -> [B, A]`, like `torch.Tensor.t`.
    pub fn t(&self) -> Tensor<E, (B, A)> {
        self.permute::<1, 0>()
    }

    /// Reorders the dims: output axis `i` is input axis `Pi`. An axis out of range or listed
    /// twice fails the build.
    pub fn permute<const P0: usize, const P1: usize>(
        &self,
    ) -> Tensor<E, Permuted<(A, B), Axes2<P0, P1>>>
    where
        (A, B): PermuteShape<Axes2<P0, P1>>,
    {
        self.permute_by(self.shape().permuted(), &[P0, P1])
    }
}

impl<E: Element, A, B, C> Tensor<E, (A, B, C)>
where
    (A, B, C): Shape,
{
    /// Reorders the dims: output axis `i` is input axis `Pi`, like `torch.permute`. An axis out
    /// of range ("permute: axis 3 is out of range for a rank-3 tensor") or listed twice
    /// ("permute: axis 0 is listed twice") fails the build.
    pub fn permute<const P0: usize, const P1: usize, const P2: usize>(
        &self,
    ) -> Tensor<E, Permuted<(A, B, C), Axes3<P0, P1, P2>>>
    where
        (A, B, C): PermuteShape<Axes3<P0, P1, P2>>,
    {
        self.permute_by(self.shape().permuted(), &[P0, P1, P2])
    }
}

impl<E: Element, A, B, C, D> Tensor<E, (A, B, C, D)>
where
    (A, B, C, D): Shape,
{
    /// Reorders the dims: output axis `i` is input axis `Pi` (`<0, 2, 3, 1>` is NCHW to NHWC).
    /// An axis out of range or listed twice fails the build.
    #[allow(clippy::type_complexity)]
    pub fn permute<const P0: usize, const P1: usize, const P2: usize, const P3: usize>(
        &self,
    ) -> Tensor<E, Permuted<(A, B, C, D), Axes4<P0, P1, P2, P3>>>
    where
        (A, B, C, D): PermuteShape<Axes4<P0, P1, P2, P3>>,
    {
        self.permute_by(self.shape().permuted(), &[P0, P1, P2, P3])
    }
}

//! Shape changes: `reshape` (checked element count), `permute`/`t` (reordered dims) and
//! `broadcast` (a new axis, repeated), each with its gradient.
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
//! ```

use typenum::IsEqual;

use super::reduce::split_at_axis;
use super::{Element, Tensor};
use crate::memory::Buffer;
use crate::shape::{
    fmt_dims, is_permutation, ConstShape, Dimension, RemoveAxis, ReshapeFits, SelectAxis, Shape,
    TypeNumel,
};

impl<E: Element, S: Shape> Tensor<E, S> {
    /// The same elements in a shape of equal element count, computed by the compiler:
    /// `[2, 3, 4] -> [6, 4]` compiles, `[2, 3] -> [4, 2]` does not. Like `torch.reshape`.
    ///
    /// Both shapes must be static with dims up to 4096: `TypeNumel` holds only for those, and it
    /// is the one bound here that says so, so that a runtime dim gives one short error. For
    /// runtime dims use [`reshape_to`](Self::reshape_to).
    pub fn reshape<Dst>(&self) -> Tensor<E, Dst>
    where
        S: TypeNumel,
        Dst: Shape + Default + TypeNumel,
        S::Numel: IsEqual<Dst::Numel>,
        <S::Numel as IsEqual<Dst::Numel>>::Output: ReshapeFits<S, Dst>,
    {
        self.reshape_to(Dst::default())
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

/// A permuted rank-2 shape.
type Permuted2<S, const P0: usize, const P1: usize> =
    (<S as SelectAxis<P0>>::Dim, <S as SelectAxis<P1>>::Dim);

impl<E: Element, A: Dimension, B: Dimension> Tensor<E, (A, B)> {
    /// The transpose `[A, B] -> [B, A]`, like `torch.Tensor.t`.
    pub fn t(&self) -> Tensor<E, (B, A)> {
        self.permute::<1, 0>()
    }

    /// Reorders the dims: output axis `i` is input axis `Pi`. A repeated axis fails the build.
    pub fn permute<const P0: usize, const P1: usize>(&self) -> Tensor<E, Permuted2<(A, B), P0, P1>>
    where
        (A, B): SelectAxis<P0> + SelectAxis<P1>,
    {
        let () = Axes2::<P0, P1>::VALID;
        let s = self.shape();
        let dst = (SelectAxis::<P0>::select(s), SelectAxis::<P1>::select(s));
        self.permute_by(dst, &[P0, P1])
    }
}

/// The message for axes that are not a permutation (an axis listed twice), or `None`.
const fn repeated_axis(axes: &[usize]) -> Option<&'static str> {
    const REPEATED: [&str; 4] = [
        "permute: axis 0 is listed twice; each axis must appear exactly once",
        "permute: axis 1 is listed twice; each axis must appear exactly once",
        "permute: axis 2 is listed twice; each axis must appear exactly once",
        "permute: axis 3 is listed twice; each axis must appear exactly once",
    ];
    if is_permutation(axes) {
        return None;
    }
    let mut i = 0;
    while i < axes.len() {
        let mut j = i + 1;
        while j < axes.len() {
            if axes[i] == axes[j] && axes[i] < REPEATED.len() {
                return Some(REPEATED[axes[i]]);
            }
            j += 1;
        }
        i += 1;
    }
    Some("permute: the axes are not a permutation")
}

/// The axes of a permute, checked when the build evaluates `VALID`: a repeated axis fails it with
/// an error naming the constant, `Axes3::<0, 0, 2>::VALID`, so the axes show in the message.
macro_rules! permute_axes {
    ($name:ident; $($p:ident),+) => {
        struct $name<$(const $p: usize),+>;
        impl<$(const $p: usize),+> $name<$($p),+> {
            const VALID: () = match repeated_axis(&[$($p),+]) {
                Some(message) => panic!("{}", message),
                None => (),
            };
        }
    };
}
permute_axes!(Axes2; P0, P1);
permute_axes!(Axes3; P0, P1, P2);
permute_axes!(Axes4; P0, P1, P2, P3);

/// A permuted rank-3 shape.
type Permuted3<S, const P0: usize, const P1: usize, const P2: usize> = (
    <S as SelectAxis<P0>>::Dim,
    <S as SelectAxis<P1>>::Dim,
    <S as SelectAxis<P2>>::Dim,
);

impl<E: Element, A: Dimension, B: Dimension, C: Dimension> Tensor<E, (A, B, C)> {
    /// Reorders the dims: output axis `i` is input axis `Pi`, like `torch.permute`.
    /// A repeated axis fails the build.
    pub fn permute<const P0: usize, const P1: usize, const P2: usize>(
        &self,
    ) -> Tensor<E, Permuted3<(A, B, C), P0, P1, P2>>
    where
        (A, B, C): SelectAxis<P0> + SelectAxis<P1> + SelectAxis<P2>,
    {
        let () = Axes3::<P0, P1, P2>::VALID;
        let s = self.shape();
        let dst = (
            SelectAxis::<P0>::select(s),
            SelectAxis::<P1>::select(s),
            SelectAxis::<P2>::select(s),
        );
        self.permute_by(dst, &[P0, P1, P2])
    }
}

/// A permuted rank-4 shape.
type Permuted4<S, const P0: usize, const P1: usize, const P2: usize, const P3: usize> = (
    <S as SelectAxis<P0>>::Dim,
    <S as SelectAxis<P1>>::Dim,
    <S as SelectAxis<P2>>::Dim,
    <S as SelectAxis<P3>>::Dim,
);

impl<E: Element, A: Dimension, B: Dimension, C: Dimension, D: Dimension> Tensor<E, (A, B, C, D)> {
    /// Reorders the dims: output axis `i` is input axis `Pi` (`<0, 2, 3, 1>` is NCHW to NHWC).
    /// A repeated axis fails the build.
    pub fn permute<const P0: usize, const P1: usize, const P2: usize, const P3: usize>(
        &self,
    ) -> Tensor<E, Permuted4<(A, B, C, D), P0, P1, P2, P3>>
    where
        (A, B, C, D): SelectAxis<P0> + SelectAxis<P1> + SelectAxis<P2> + SelectAxis<P3>,
    {
        let () = Axes4::<P0, P1, P2, P3>::VALID;
        let s = self.shape();
        let dst = (
            SelectAxis::<P0>::select(s),
            SelectAxis::<P1>::select(s),
            SelectAxis::<P2>::select(s),
            SelectAxis::<P3>::select(s),
        );
        self.permute_by(dst, &[P0, P1, P2, P3])
    }
}

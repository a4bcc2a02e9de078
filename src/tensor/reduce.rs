//! Reductions over a typed axis (`sum`, `mean`, `max`) and over everything (`sum_all`,
//! `mean_all`), with their gradients.
//!
//! The axis is a const generic; the result's shape is the input's without that axis, computed
//! by the compiler. Like `torch.sum(x, dim)` with `keepdim=False`. Each reduction's one bound
//! is its shape relation ([`SumShape`], [`MeanShape`], [`MaxShape`]): an axis out of range is a
//! compile error ("sum: axis 5 is out of range for a rank-3 tensor"), and so is `mean` or `max`
//! over a static axis of size 0. Over a runtime axis of size 0, `mean` gives NaN (0/0, as
//! `torch.mean`) and `max` panics naming the op and the axis (`torch.max` raises).
//!
//! NaN as in PyTorch: sums and means propagate it; `max` and `argmax` take a slice's first NaN
//! (its position gets the gradient), like `torch.max(x, dim)` and `torch.argmax`.
//!
//! ```
//! use shapetorch::prelude::*;
//! let x = Tensor2::<f32, 2, 3>::from_fn(|[i, j]| (3 * i + j) as f32);
//! let rows: Tensor1<f32, 2> = x.sum::<1>(); // [0+1+2, 3+4+5]
//! assert_eq!(rows.to_vec(), vec![3.0, 12.0]);
//! assert_eq!(x.max::<0>().to_vec(), vec![3.0, 4.0, 5.0]);
//! assert_eq!(x.mean_all().item(), 2.5);
//! ```

use super::{Element, IndexTensor, Tensor};

use crate::shape::{AxisClasses, MaxOut, MaxShape, MeanShape, SelectAxis, Shape, SumShape};

/// Splits `dims` around `axis` into `(outer, n, inner)`: the element `[o, k, i]` of that 3-D
/// view lies at `(o * n + k) * inner + i`.
pub(crate) fn split_at_axis(dims: &[usize], axis: usize) -> (usize, usize, usize) {
    let outer = dims[..axis].iter().product();
    let inner = dims[axis + 1..].iter().product();
    (outer, dims[axis], inner)
}

/// The sum of `values`, kept in [`LANES`] partial sums that are added at the end.
///
/// One running total makes every addition wait for the one before (about 4 cycles each), so
/// `iter().sum()` over the 2 million outputs of a convolution took 2.5 ms; sixteen independent
/// totals fill the vector registers instead, and the rounding error grows along chains 16
/// times shorter. Compiled here for each element type (see `Element::as_f32`).
pub(crate) fn sum_slice<E: Element>(values: &[E]) -> E {
    if let Some(values) = E::as_f32(values) {
        return E::of(f64::from(sum_f32(values)));
    }
    E::of(sum_f64(
        E::as_f64(values).expect("an element is f32 or f64"),
    ))
}

/// Partial sums in [`sum_slice`].
const LANES: usize = 16;

/// [`sum_slice`] for `f32`.
#[inline(never)]
fn sum_f32(values: &[f32]) -> f32 {
    sum_in_lanes(values)
}

/// [`sum_slice`] for `f64`.
#[inline(never)]
fn sum_f64(values: &[f64]) -> f64 {
    sum_in_lanes(values)
}

/// `values[i]` goes to partial sum `i % LANES`; the partial sums and the tail are added last.
#[inline(always)]
fn sum_in_lanes<E: Element>(values: &[E]) -> E {
    let mut partial = [E::zero(); LANES];
    let chunks = values.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (p, &v) in partial.iter_mut().zip(chunk) {
            *p += v;
        }
    }
    partial.iter().chain(tail).copied().sum()
}

impl<E: Element, S: Shape> Tensor<E, S> {
    /// Sums over axis `I`: `out[o, i] = sum_k x[o, k, i]` (0 over an empty axis).
    pub fn sum<const I: usize>(&self) -> Tensor<E, <S as SumShape<I>>::Output>
    where
        S: SumShape<I>,
    {
        self.sum_scaled::<I, _>(self.shape().reduced(), E::one())
    }

    /// Averages over axis `I`. An empty axis is a compile error if static; a runtime one of
    /// size 0 gives NaN (0/0), as `torch.mean` does (and as [`mean_all`](Self::mean_all) of an
    /// empty tensor).
    pub fn mean<const I: usize>(&self) -> Tensor<E, <S as MeanShape<I>>::Output>
    where
        S: MeanShape<I>,
    {
        let n = self.dims().as_ref()[I];
        // n = 0: every sum is 0, and 0 * (1/0) = 0 * inf = NaN; no element gets a gradient
        self.sum_scaled::<I, _>(self.shape().reduced(), E::one() / E::of(n as f64))
    }

    /// `scale * sum over axis I`, in the shape `out_shape` (the input's without axis `I`); the
    /// gradient sends `scale * grad` back to every summand.
    fn sum_scaled<const I: usize, So: Shape>(&self, out_shape: So, scale: E) -> Tensor<E, So> {
        let (outer, n, inner) = split_at_axis(self.dims().as_ref(), I);
        let x = self.as_slice();
        let mut out = vec![E::zero(); outer * inner];
        for o in 0..outer {
            for k in 0..n {
                let row = &x[(o * n + k) * inner..][..inner];
                for (acc, &v) in out[o * inner..][..inner].iter_mut().zip(row) {
                    *acc += v;
                }
            }
        }
        out.iter_mut().for_each(|v| *v = *v * scale);
        let x_id = self.id();
        Tensor::from_op("sum", out_shape, out, &[self], move |grad_y, grads| {
            let grad_x = grads.accumulator(x_id, outer * n * inner);
            for o in 0..outer {
                for k in 0..n {
                    let dst = &mut grad_x[(o * n + k) * inner..][..inner];
                    for (g, &gy) in dst.iter_mut().zip(&grad_y[o * inner..][..inner]) {
                        *g += gy * scale;
                    }
                }
            }
        })
    }

    /// The maximum over axis `I`. As PyTorch's `torch.max(x, dim)`: a slice holding a NaN has
    /// the maximum NaN, and the gradient goes to its first NaN; otherwise it goes to the first
    /// maximal element. An empty axis is a compile error if static, a panic if not.
    pub fn max<const I: usize>(&self) -> Tensor<E, <S as MaxShape<I>>::Output>
    where
        S: MaxShape<I>,
    {
        let (outer, n, inner) = split_at_axis(self.dims().as_ref(), I);
        assert!(
            n > 0,
            "max: axis {I} is empty (size 0); there is no maximum of no elements"
        );
        let x = self.as_slice();
        // argmax[o * inner + i] = the k of the largest x[o, k, i]
        let mut argmax = vec![0usize; outer * inner];
        let mut out = vec![E::zero(); outer * inner];
        for o in 0..outer {
            for i in 0..inner {
                let best = first_max((0..n).map(|k| x[(o * n + k) * inner + i]));
                argmax[o * inner + i] = best;
                out[o * inner + i] = x[(o * n + best) * inner + i];
            }
        }
        let x_id = self.id();
        Tensor::from_op(
            "max",
            self.shape().reduced(),
            out,
            &[self],
            move |grad_y, grads| {
                let grad_x = grads.accumulator(x_id, outer * n * inner);
                for o in 0..outer {
                    for i in 0..inner {
                        let k = argmax[o * inner + i];
                        grad_x[(o * n + k) * inner + i] += grad_y[o * inner + i];
                    }
                }
            },
        )
    }

    /// The index of the largest element along axis `I` (the first one on ties; the first NaN
    /// when the slice holds one), like `torch.argmax(x, dim)`: an [`IndexTensor`] whose values
    /// lie below the axis's size `N`. Not differentiable (its result is integers).
    ///
    /// ```
    /// use shapetorch::prelude::*;
    /// let logits = Tensor2::<f32, 2, 3>::from_slice(&[0.1, 2.0, -1.0, 5.0, 5.0, 0.0]).unwrap();
    /// let predicted: IndexTensor<Rank1<2>, 3> = logits.argmax::<1, 3>();
    /// assert_eq!(predicted.to_vec(), vec![1, 0]);
    /// ```
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn argmax<const I: usize, const N: usize>(&self) -> IndexTensor<MaxOut<S, I>, N>
    where S: MaxShape<I> + SelectAxis<I>, crate::shape::markers::argmax: AxisClasses<<S as SelectAxis<I>>::Dim, N>,
    {
        let (outer, n, inner) = split_at_axis(self.dims().as_ref(), I);
        assert!(n > 0, "argmax: axis {I} is empty");
        let x = self.as_slice();
        let mut out = vec![0usize; outer * inner];
        for o in 0..outer {
            for i in 0..inner {
                out[o * inner + i] = first_max((0..n).map(|k| x[(o * n + k) * inner + i]));
            }
        }
        IndexTensor::from_valid(self.shape().reduced(), out)
    }

    /// The sum of every element, as a scalar tensor (the usual loss reduction).
    pub fn sum_all(&self) -> Tensor<E, ()> {
        self.sum_all_scaled(E::one())
    }

    /// The mean of every element, as a scalar tensor.
    pub fn mean_all(&self) -> Tensor<E, ()> {
        self.sum_all_scaled(E::one() / E::of(self.numel() as f64))
    }

    fn sum_all_scaled(&self, scale: E) -> Tensor<E, ()> {
        let total = sum_slice(self.as_slice()) * scale;
        let (x_id, len) = (self.id(), self.numel());
        Tensor::from_op("sum_all", (), vec![total], &[self], move |grad_y, grads| {
            let g = grad_y[0] * scale;
            grads
                .accumulator(x_id, len)
                .iter_mut()
                .for_each(|v| *v += g);
        })
    }
}

/// The position of the maximum of `values` as `torch.max(x, dim)` and `torch.argmax` find it:
/// the first NaN if there is one (NaN propagates, and PyTorch stops at the first), else the
/// first of the largest values (0 for an empty sequence).
fn first_max<E: Element>(values: impl Iterator<Item = E>) -> usize {
    let mut best: Option<(usize, E)> = None;
    for (k, v) in values.enumerate() {
        if v.is_nan() {
            return k;
        }
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((k, v));
        }
    }
    best.map_or(0, |(k, _)| k)
}

#[cfg(test)]
mod tests {
    use super::{first_max, sum_slice};

    #[test]
    fn first_max_stops_at_the_first_nan_and_keeps_the_first_of_ties() {
        let nan = f64::NAN;
        for (values, at) in [
            (vec![1.0, nan, 2.0], 1),
            (vec![nan, 1.0, 2.0], 0),
            (vec![1.0, 2.0, nan], 2),
            (vec![nan, nan, 1.0], 0),
            (vec![1.0, nan, nan], 1),
            (vec![3.0, 1.0, 3.0], 0),
            (vec![f64::NEG_INFINITY; 2], 0),
            (vec![], 0),
        ] {
            assert_eq!(first_max(values.iter().copied()), at, "{values:?}");
        }
    }

    /// Every length around the lane count and a long one, in both element types, against a
    /// sum in f64 of the same values (integers and halves: exact in either order).
    #[test]
    fn sum_slice_adds_every_element_whatever_the_length() {
        for len in (0..70).chain([1000, 65_537]) {
            let values: Vec<f64> = (0..len).map(|i| (i % 97) as f64 * 0.5 - 11.0).collect();
            let exact: f64 = values.iter().sum();
            assert_eq!(sum_slice(&values), exact, "f64, length {len}");
            let values32: Vec<f32> = values.iter().map(|&v| v as f32).collect();
            assert_eq!(f64::from(sum_slice(&values32)), exact, "f32, length {len}");
        }
    }
}

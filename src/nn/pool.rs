//! Pooling layers (`MaxPool2d`, `AvgPool2d`, `MaxPool1d`, `AvgPool1d`) and `Flatten`, for
//! models written as a chain of layers. None has parameters; each computes its output shape
//! through the op's shape relation, so a layer that does not fit its input fails the build
//! with the op's message.
//!
//! ```
//! use shapetorch::prelude::*;
//! let x = Tensor::<f32, (usize, Dim<6>, Dim<24>, Dim<24>)>::zeros_shaped((8, Dim, Dim, Dim));
//! let pooled = MaxPool2d::<2, 2>.forward(x);                  // [B, 6, 12, 12]
//! let features: Tensor<f32, (usize, Dim<864>)> = Flatten.forward(pooled); // 6 * 12 * 12
//! assert_eq!(features.dims(), [8, 864]);
//! ```

use super::{Forward, Init, Module, Visitor};
use crate::element::Element;
use crate::shape::{
    AvgPool1dShape, AvgPool2dShape, FlattenShape, Flattened, MaxPool1dShape, MaxPool2dShape,
    Pool1d, Pool1dOut, Pool2d, Pool2dOut,
};
use crate::tensor::{Rng, Tensor};

/// `Module` (no parameters) and `Init` for a layer without state.
macro_rules! stateless {
    ($name:ident $(<$(const $c:ident),+>)?) => {
        impl<E: Element $($(, const $c: usize)+)?> Module<E> for $name $(<$($c),+>)? {
            fn visit(&mut self, _: &mut Visitor<'_, E>) {}
        }

        impl$(<$(const $c: usize),+>)? Init for $name $(<$($c),+>)? {
            fn init(_: &mut Rng) -> Self {
                $name
            }
        }
    };
}

/// 2-D max pooling over `KH x KW` windows, like `torch.nn.MaxPool2d((KH, KW), (SH, SW), (PH,
/// PW), (DH, DW))`: stride the window's size by default, no padding, dilation 1.
/// `MaxPool2d<2, 2>` halves the height and width. See
/// [`max_pool2d_with`](Tensor::max_pool2d_with).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MaxPool2d<
    const KH: usize,
    const KW: usize,
    const SH: usize = KH,
    const SW: usize = KW,
    const PH: usize = 0,
    const PW: usize = 0,
    const DH: usize = 1,
    const DW: usize = 1,
>;

impl<
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
        const DH: usize,
        const DW: usize,
    > MaxPool2d<KH, KW, SH, SW, PH, PW, DH, DW>
{
    /// `[B, C, H, W] → [B, C, H_out, W_out]`. (An inherent method, so that a wrong input reports the op's own message at
    /// the call; [`Forward`] calls it.)
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn forward<E: Element, S>(&self, x: Tensor<E, S>) -> Tensor<E, Pool2dOut<S, Pool2d<KH, KW, SH, SW, PH, PW, DH, DW>>>
    where S: MaxPool2dShape<Pool2d<KH, KW, SH, SW, PH, PW, DH, DW>>,
    {
        x.max_pool2d_with(Pool2d::<KH, KW, SH, SW, PH, PW, DH, DW>)
    }
}

impl<
        E: Element,
        S,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
        const DH: usize,
        const DW: usize,
    > Forward<Tensor<E, S>> for MaxPool2d<KH, KW, SH, SW, PH, PW, DH, DW>
where
    S: MaxPool2dShape<Pool2d<KH, KW, SH, SW, PH, PW, DH, DW>>,
{
    type Output = Tensor<E, Pool2dOut<S, Pool2d<KH, KW, SH, SW, PH, PW, DH, DW>>>;
    fn forward(&self, x: Tensor<E, S>) -> Self::Output {
        MaxPool2d::forward(self, x)
    }
}

stateless!(MaxPool2d<const KH, const KW, const SH, const SW, const PH, const PW, const DH, const DW>);

/// 2-D average pooling over `KH x KW` windows, like `torch.nn.AvgPool2d((KH, KW), (SH, SW),
/// (PH, PW))` (`count_include_pad=True`): stride the window's size by default, no padding.
/// See [`avg_pool2d_with`](Tensor::avg_pool2d_with).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AvgPool2d<
    const KH: usize,
    const KW: usize,
    const SH: usize = KH,
    const SW: usize = KW,
    const PH: usize = 0,
    const PW: usize = 0,
>;

impl<
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
    > AvgPool2d<KH, KW, SH, SW, PH, PW>
{
    /// `[B, C, H, W] → [B, C, H_out, W_out]`. (An inherent method, so that a wrong input reports the op's own message at
    /// the call; [`Forward`] calls it.)
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn forward<E: Element, S>(&self, x: Tensor<E, S>) -> Tensor<E, Pool2dOut<S, Pool2d<KH, KW, SH, SW, PH, PW>>>
    where S: AvgPool2dShape<Pool2d<KH, KW, SH, SW, PH, PW>>,
    {
        x.avg_pool2d_with(Pool2d::<KH, KW, SH, SW, PH, PW>)
    }
}

impl<
        E: Element,
        S,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
    > Forward<Tensor<E, S>> for AvgPool2d<KH, KW, SH, SW, PH, PW>
where
    S: AvgPool2dShape<Pool2d<KH, KW, SH, SW, PH, PW>>,
{
    type Output = Tensor<E, Pool2dOut<S, Pool2d<KH, KW, SH, SW, PH, PW>>>;
    fn forward(&self, x: Tensor<E, S>) -> Self::Output {
        AvgPool2d::forward(self, x)
    }
}

stateless!(AvgPool2d<const KH, const KW, const SH, const SW, const PH, const PW>);

/// 1-D max pooling over windows of `K`, like `torch.nn.MaxPool1d(K, S, P, D)`: stride `K` by
/// default, no padding, dilation 1. See [`max_pool1d_with`](Tensor::max_pool1d_with).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MaxPool1d<const K: usize, const S: usize = K, const P: usize = 0, const D: usize = 1>;

impl<const K: usize, const S: usize, const P: usize, const D: usize> MaxPool1d<K, S, P, D> {
    /// `[B, C, W] → [B, C, W_out]`. (An inherent method, so that a wrong input reports the op's own message at
    /// the call; [`Forward`] calls it.)
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn forward<E: Element, X>(&self, x: Tensor<E, X>) -> Tensor<E, Pool1dOut<X, Pool1d<K, S, P, D>>>
    where X: MaxPool1dShape<Pool1d<K, S, P, D>>,
    {
        x.max_pool1d_with(Pool1d::<K, S, P, D>)
    }
}

impl<E: Element, X, const K: usize, const S: usize, const P: usize, const D: usize>
    Forward<Tensor<E, X>> for MaxPool1d<K, S, P, D>
where
    X: MaxPool1dShape<Pool1d<K, S, P, D>>,
{
    type Output = Tensor<E, Pool1dOut<X, Pool1d<K, S, P, D>>>;
    fn forward(&self, x: Tensor<E, X>) -> Self::Output {
        MaxPool1d::forward(self, x)
    }
}

stateless!(MaxPool1d<const K, const S, const P, const D>);

/// 1-D average pooling over windows of `K`, like `torch.nn.AvgPool1d(K, S, P)`: stride `K` by
/// default, no padding. See [`avg_pool1d_with`](Tensor::avg_pool1d_with).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AvgPool1d<const K: usize, const S: usize = K, const P: usize = 0>;

impl<const K: usize, const S: usize, const P: usize> AvgPool1d<K, S, P> {
    /// `[B, C, W] → [B, C, W_out]`. (An inherent method, so that a wrong input reports the
    /// op's own message at the call; [`Forward`] calls it.)
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn forward<E: Element, X>(&self, x: Tensor<E, X>) -> Tensor<E, Pool1dOut<X, Pool1d<K, S, P>>>
    where X: AvgPool1dShape<Pool1d<K, S, P>>,
    {
        x.avg_pool1d_with(Pool1d::<K, S, P>)
    }
}

impl<E: Element, X, const K: usize, const S: usize, const P: usize> Forward<Tensor<E, X>>
    for AvgPool1d<K, S, P>
where
    X: AvgPool1dShape<Pool1d<K, S, P>>,
{
    type Output = Tensor<E, Pool1dOut<X, Pool1d<K, S, P>>>;
    fn forward(&self, x: Tensor<E, X>) -> Self::Output {
        AvgPool1d::forward(self, x)
    }
}

stateless!(AvgPool1d<const K, const S, const P>);

/// `[B, D1, D2, ..] → [B, D1 * D2 * ..]` (rank 3 to 5), like `torch.nn.Flatten()`: the
/// per-sample size is computed by the compiler (so the next `Linear`'s input size is checked
/// against it), the batch dim kept, static or a runtime `usize`. See
/// [`flatten`](Tensor::flatten).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flatten;

impl Flatten {
    /// `[B, D1, D2, ..] → [B, D1 * D2 * ..]`. (An inherent method, so that a wrong input
    /// reports the op's own message at the call; [`Forward`] calls it.)
    pub fn forward<E: Element, S: FlattenShape>(&self, x: Tensor<E, S>) -> Tensor<E, Flattened<S>> {
        x.flatten()
    }
}

impl<E: Element, S: FlattenShape> Forward<Tensor<E, S>> for Flatten {
    type Output = Tensor<E, Flattened<S>>;
    fn forward(&self, x: Tensor<E, S>) -> Self::Output {
        Flatten::forward(self, x)
    }
}

stateless!(Flatten);

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    #[test]
    fn layers_equal_their_ops_and_have_no_parameters() {
        let x = Tensor4::<f64, 2, 3, 9, 9>::randn(1);
        assert_eq!(
            MaxPool2d::<3, 3, 2, 2, 1, 1>.forward(x.clone()).to_vec(),
            x.max_pool2d_with(Pool2d::<3, 3, 2, 2, 1, 1>).to_vec()
        );
        let y: Tensor4<f64, 2, 3, 3, 3> = AvgPool2d::<3, 3>.forward(x.clone());
        assert_eq!(y.to_vec(), x.avg_pool2d::<3, 3>().to_vec());
        let s = Tensor3::<f64, 2, 3, 10>::randn(2);
        let m: Tensor3<f64, 2, 3, 5> = MaxPool1d::<2>.forward(s.clone());
        assert_eq!(m.to_vec(), s.max_pool1d::<2>().to_vec());
        let a: Tensor3<f64, 2, 3, 5> = AvgPool1d::<3, 2, 1>.forward(s.clone());
        assert_eq!(a.to_vec(), s.avg_pool1d_with(Pool1d::<3, 2, 1>).to_vec());
        let f: Tensor2<f64, 2, 243> = Flatten.forward(x.clone());
        assert_eq!(f.to_vec(), x.to_vec());

        let mut layer = MaxPool2d::<2, 2>::new(0);
        assert_eq!(ModuleExt::<f32>::parameter_count(&mut layer), 0);
        let mut flatten = Flatten::new(0);
        assert!(ModuleExt::<f64>::parameter_names(&mut flatten).is_empty());
    }
}

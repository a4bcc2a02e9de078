// Generic code writes one shape relation per op (and none where only the batch is generic);
// the relations' associated types name the outputs, so one generic op feeds the next.
use shapetorch::prelude::*;

type P = ConvParams<1, 0, 1>;
type Same = ConvParams<1, 1, 1>;

/// A conv layer generic over batch, height and width: one where-line.
fn conv5x5<B: Dimension, H: Dimension, W: Dimension>(
    x: &Tensor<f32, (B, Dim<1>, H, W)>,
    w: &Tensor4<f32, 6, 1, 5, 5>,
    b: &Tensor1<f32, 6>,
) -> Tensor<f32, Conv2dOut<(B, Dim<1>, H, W), 6, 5, 5, P>>
where
    (B, Dim<1>, H, W): Conv2dShape<1, 5, 5, P>,
{
    x.conv2d_bias(w, b, P::default()).relu()
}

/// A block generic over its channels: no bound, the channel check needs no arithmetic.
fn block<B: Dimension, const C: usize, const O: usize>(
    x: &Tensor<f32, (B, Dim<C>, Dim<12>, Dim<12>)>,
    w: &Tensor4<f32, O, C, 3, 3>,
    b: &Tensor1<f32, O>,
) -> Tensor<f32, (B, Dim<O>, Dim<10>, Dim<10>)> {
    x.conv2d_bias(w, b, ConvParams::default())
}

/// Two convs generic over channels, height and width: one where-line per conv; the first's
/// output type is the second's input.
type Out1<B, H, W, const C: usize> = Conv2dOut<(B, Dim<C>, H, W), C, 3, 3, Same>;
fn residual_pair<B: Dimension, H: Dimension, W: Dimension, const C: usize>(
    x: &Tensor<f32, (B, Dim<C>, H, W)>,
    w1: &Tensor4<f32, C, C, 3, 3>,
    w2: &Tensor4<f32, C, C, 3, 3>,
) -> Tensor<f32, Conv2dOut<Out1<B, H, W, C>, C, 3, 3, Same>>
where
    (B, Dim<C>, H, W): Conv2dShape<C, 3, 3, Same>,
    Out1<B, H, W, C>: Conv2dShape<C, 3, 3, Same>,
{
    x.conv2d(w1, Same::default()).relu().conv2d(w2, Same::default())
}

/// LeNet-like: conv, conv, flatten, linear, generic over the batch only: no where-clause.
fn lenet<B: Dimension>(
    x: &Tensor<f32, (B, Dim<1>, Dim<28>, Dim<28>)>,
    w1: &Tensor4<f32, 6, 1, 5, 5>,
    w2: &Tensor4<f32, 16, 6, 5, 5>,
    fc: &Tensor2<f32, 10, 1600>,
) -> Tensor<f32, (B, Dim<10>)> {
    let h = x.conv2d(w1, P::default()).relu(); // [B, 6, 24, 24]
    let h = h.conv2d(w2, ConvParams::<2>).relu(); // [B, 16, 10, 10]: (24 - 5)/2 + 1
    h.flatten().linear(fc) // 16 * 10 * 10 = 1600 features, computed
}

/// Reductions generic over the batch: no bound (axis 1 is static and not empty).
fn row_max<B: Dimension>(x: &Tensor<f32, (B, Dim<10>)>) -> Tensor<f32, (B,)> {
    x.max::<1>()
}

fn main() {
    let x = Tensor::<f32, (usize, Dim<1>, Dim<28>, Dim<28>)>::ones_shaped((3, Dim, Dim, Dim));
    let y = conv5x5(&x, &Tensor4::ones(), &Tensor1::zeros());
    let y: Tensor<f32, (usize, Dim<6>, Dim<24>, Dim<24>)> = y;
    assert_eq!(y.as_slice()[0], 25.0);

    let x2 = Tensor4::<f32, 2, 4, 12, 12>::ones();
    let z = block(&x2, &Tensor4::<f32, 5, 4, 3, 3>::ones(), &Tensor1::zeros());
    assert_eq!(z.dims(), [2, 5, 10, 10]);

    let x3 = Tensor4::<f32, 2, 4, 7, 9>::ones();
    let r = residual_pair(&x3, &Tensor4::zeros(), &Tensor4::zeros());
    let r: Tensor4<f32, 2, 4, 7, 9> = r; // padding 1 keeps the size
    assert_eq!(r.dims(), [2, 4, 7, 9]);

    let logits = lenet(&x, &Tensor4::ones(), &Tensor4::ones(), &Tensor2::zeros());
    assert_eq!(logits.dims(), [3, 10]);
    assert_eq!(row_max(&logits).dims(), [3]);

    // flatten with a runtime batch, and back
    let maps = Tensor::<f32, (usize, Dim<16>, Dim<5>, Dim<5>)>::from_fn_shaped(
        (4, Dim, Dim, Dim),
        |[b, c, i, j]| (b * 400 + c * 25 + i * 5 + j) as f32,
    );
    let flat: Tensor<f32, (usize, Dim<400>)> = maps.flatten();
    assert_eq!(flat.to_vec(), maps.to_vec());
    let back: Tensor<f32, (usize, Dim<16>, Dim<5>, Dim<5>)> = flat.unflatten();
    assert_eq!(back.to_vec(), maps.to_vec());

    // ConvParams::default() is PyTorch's <1, 0, 1>
    let s = Tensor3::<f32, 2, 3, 10>::ones();
    let k = Tensor3::<f32, 4, 3, 3>::ones();
    let t: Tensor3<f32, 2, 4, 8> = s.conv1d(&k, ConvParams::default());
    assert_eq!(t.as_slice()[0], 9.0);

    // the teaching convention accepts a runtime width
    let seq = Tensor::<f32, (Dim<1>, Dim<2>, usize)>::ones_shaped((Dim, Dim, 6));
    let k = Tensor3::<f32, 3, 2, 4>::ones();
    let u: Tensor<f32, (Dim<1>, Dim<3>, usize)> = seq.conv1d_minitorch(&k);
    assert_eq!(u.dims(), [1, 3, 6]);
    assert_eq!(u.as_slice()[5], 2.0); // the last position sees one tap per channel
}

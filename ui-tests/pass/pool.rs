// Pooling in generic code: one relation per op where a height or width is generic, none where
// only the batch is; the relations' associated types name the outputs, so one op feeds the next.
use shapetorch::prelude::*;

type Half = Pool2d<2, 2>;

/// A pooling layer generic over batch, channels, height and width: one where-line.
fn pool<B: Dimension, C: Dimension, H: Dimension, W: Dimension>(
    x: Tensor<f32, (B, C, H, W)>,
) -> Tensor<f32, Pool2dOut<(B, C, H, W), Half>>
where
    (B, C, H, W): MaxPool2dShape<Half>,
{
    x.max_pool2d::<2, 2>()
}

/// The same as a layer: `MaxPool2d`'s `Forward` is bounded by the same relation.
fn pool_layer<B: Dimension, C: Dimension, H: Dimension, W: Dimension>(
    x: Tensor<f32, (B, C, H, W)>,
) -> Tensor<f32, Pool2dOut<(B, C, H, W), Half>>
where
    (B, C, H, W): MaxPool2dShape<Half>,
{
    MaxPool2d::<2, 2>.forward(x)
}

/// conv then pool, generic over height and width: one where-line per op; the conv's output
/// type is the pooling's input.
type P = ConvParams<1, 1, 1>;
type Conved<B, H, W> = Conv2dOut<(B, Dim<3>, H, W), 8, 3, 3, P>;
fn conv_pool<B: Dimension, H: Dimension, W: Dimension>(
    x: &Tensor<f32, (B, Dim<3>, H, W)>,
    w: &Tensor4<f32, 8, 3, 3, 3>,
) -> Tensor<f32, Pool2dOut<Conved<B, H, W>, Pool2d<3, 3, 2, 2, 1, 1>>>
where
    (B, Dim<3>, H, W): Conv2dShape<3, 3, 3, P>,
    Conved<B, H, W>: AvgPool2dShape<Pool2d<3, 3, 2, 2, 1, 1>>,
{
    x.conv2d(w, P::default())
        .relu()
        .avg_pool2d_with(Pool2d::<3, 3, 2, 2, 1, 1>)
}

/// LeNet-style, generic over the batch only: no where-clause.
fn lenet<B: Dimension>(
    x: &Tensor<f32, (B, Dim<1>, Dim<28>, Dim<28>)>,
    w1: &Tensor4<f32, 6, 1, 5, 5>,
    w2: &Tensor4<f32, 16, 6, 5, 5>,
    fc: &Linear<f32, 256, 10>,
) -> Tensor<f32, (B, Dim<10>)> {
    let h = x.conv2d(w1, ConvParams::default()).relu().max_pool2d::<2, 2>(); // [B, 6, 12, 12]
    let h = h.conv2d(w2, ConvParams::default()).relu().max_pool2d::<2, 2>(); // [B, 16, 4, 4]
    fc.forward(h.flatten()) // 16 * 4 * 4 = 256, computed
}

/// The same chain with layers, generic over the batch only: no where-clause.
fn lenet_layers<B: Dimension>(
    x: Tensor<f32, (B, Dim<1>, Dim<28>, Dim<28>)>,
    w1: &Tensor4<f32, 6, 1, 5, 5>,
    w2: &Tensor4<f32, 16, 6, 5, 5>,
    fc: &Linear<f32, 256, 10>,
) -> Tensor<f32, (B, Dim<10>)> {
    let h = MaxPool2d::<2, 2>.forward(ReLU.forward(x.conv2d(w1, ConvParams::default())));
    let h = MaxPool2d::<2, 2>.forward(ReLU.forward(h.conv2d(w2, ConvParams::default())));
    fc.forward(Flatten.forward(h))
}

/// tile generic over height and width, then max over the tiles: one relation per op (tile's
/// output is one associated type, opaque here, so max takes its own relation).
fn tiled_max<B: Dimension, H: Dimension, W: Dimension>(
    x: &Tensor<f32, (B, Dim<2>, H, W)>,
) -> Tensor<f32, MaxOut<Tiled<(B, Dim<2>, H, W), 2, 2>, 4>>
where
    (B, Dim<2>, H, W): TileShape<2, 2>,
    Tiled<(B, Dim<2>, H, W), 2, 2>: MaxShape<4>,
{
    x.tile::<2, 2>().max::<4>()
}

/// 1-D pooling generic over the width.
fn pool1d<B: Dimension, W: Dimension>(
    x: &Tensor<f32, (B, Dim<4>, W)>,
) -> Tensor<f32, Pool1dOut<(B, Dim<4>, W), Pool1d<3, 2, 1>>>
where
    (B, Dim<4>, W): MaxPool1dShape<Pool1d<3, 2, 1>>,
{
    x.max_pool1d_with(Pool1d::<3, 2, 1>)
}

fn main() {
    let x = Tensor::<f32, (usize, usize, Dim<24>, Dim<11>)>::ones_shaped((3, 6, Dim, Dim));
    let y: Tensor<f32, (usize, usize, Dim<12>, Dim<5>)> = pool(x.clone());
    assert_eq!(y.dims(), [3, 6, 12, 5]);
    assert_eq!(pool_layer(x).to_vec(), y.to_vec());

    let img = Tensor4::<f32, 2, 3, 9, 9>::ones();
    let z: Tensor4<f32, 2, 8, 5, 5> = conv_pool(&img, &Tensor4::ones()); // (9 + 2 - 3)/2 + 1
    assert_eq!(z.dims(), [2, 8, 5, 5]);

    let digits = Tensor::<f32, (usize, Dim<1>, Dim<28>, Dim<28>)>::ones_shaped((5, Dim, Dim, Dim));
    let fc = Linear::<f32, 256, 10>::new(0);
    let (w1, w2) = (Tensor4::ones(), Tensor4::ones());
    let logits = lenet(&digits, &w1, &w2, &fc);
    assert_eq!(logits.dims(), [5, 10]);
    assert_eq!(lenet_layers(digits, &w1, &w2, &fc).to_vec(), logits.to_vec());

    let maps = Tensor4::<f32, 1, 2, 4, 6>::from_fn(|[_, c, i, j]| (c * 24 + i * 6 + j) as f32);
    let m: Tensor4<f32, 1, 2, 2, 3> = tiled_max(&maps);
    assert_eq!(m.to_vec(), maps.max_pool2d::<2, 2>().to_vec());

    let seq = Tensor::<f32, (usize, Dim<4>, Dim<11>)>::ones_shaped((2, Dim, Dim));
    let s: Tensor<f32, (usize, Dim<4>, Dim<6>)> = pool1d(&seq); // (11 + 2 - 3)/2 + 1
    assert_eq!(s.dims(), [2, 4, 6]);

    // PyTorch's tuples for conv2d: padding (0, 2) keeps the width of a 1 x 5 kernel
    let rows = Tensor4::<f32, 1, 3, 6, 9>::ones();
    let k = Tensor4::<f32, 2, 3, 1, 5>::ones();
    let r: Tensor4<f32, 1, 2, 6, 9> = rows.conv2d(&k, ConvParams2d::<1, 1, 0, 2>);
    assert_eq!(r.as_slice()[0], 9.0); // 3 channels x 3 taps inside the input
}

// The blocks people write, generic over their sizes, each with one relation per op written by
// the user (the README's table "Generic code: one bound per op").
use shapetorch::prelude::*;

type P = ConvParams<1, 0, 1>;
type Same = ConvParams<1, 1, 1>;
type Halve = Pool2d<2, 2>;

/// conv -> relu -> max_pool2d -> flatten -> linear, generic over the batch and the input
/// channels: no bound at all (the channel check compares two const generics).
fn block_batch_channels<B: Dimension, const C: usize>(
    x: &Tensor<f32, (B, Dim<C>, Dim<28>, Dim<28>)>,
    w: &Tensor4<f32, 8, C, 5, 5>,
    fc: &Tensor2<f32, 10, 1152>,
) -> Tensor<f32, (B, Dim<10>)> {
    x.conv2d(w, P::default()).relu().max_pool2d::<2, 2>().flatten().linear(fc) // 8 * 12 * 12
}

/// The same block generic over the conv's output channels `O` (and the linear's input `F`):
/// conv and pool need no bound (the sizes they compute are static); flatten multiplies `O`,
/// so it takes its relation, and linear takes its own on flatten's output.
fn block_out_channels<B: Dimension, const O: usize, const F: usize>(
    x: &Tensor<f32, (B, Dim<1>, Dim<28>, Dim<28>)>,
    w: &Tensor4<f32, O, 1, 5, 5>,
    fc: &Tensor2<f32, 10, F>,
) -> Tensor<f32, LinearOut<Flattened<(B, Dim<O>, Dim<12>, Dim<12>)>, Dim<10>>>
where
    (B, Dim<O>, Dim<12>, Dim<12>): FlattenShape,
    Flattened<(B, Dim<O>, Dim<12>, Dim<12>)>: LinearShape<Dim<F>>,
{
    x.conv2d(w, P::default()).relu().max_pool2d::<2, 2>().flatten().linear(fc)
}

/// The same block generic over the height and width: one relation per op, each on the
/// previous op's output.
type Conv<S> = Conv2dOut<S, 8, 5, 5, P>;
type Pooled<S> = Pool2dOut<Conv<S>, Halve>;
fn block_height_width<B: Dimension, H: Dimension, W: Dimension, const F: usize>(
    x: &Tensor<f32, (B, Dim<1>, H, W)>,
    w: &Tensor4<f32, 8, 1, 5, 5>,
    fc: &Tensor2<f32, 10, F>,
) -> Tensor<f32, LinearOut<Flattened<Pooled<(B, Dim<1>, H, W)>>, Dim<10>>>
where
    (B, Dim<1>, H, W): Conv2dShape<1, 5, 5, P>,
    Conv<(B, Dim<1>, H, W)>: MaxPool2dShape<Halve>,
    Pooled<(B, Dim<1>, H, W)>: FlattenShape,
    Flattened<Pooled<(B, Dim<1>, H, W)>>: LinearShape<Dim<F>>,
{
    x.conv2d(w, P::default()).relu().max_pool2d::<2, 2>().flatten().linear(fc)
}

/// `linear` over any input shape: one bound, the documented one.
fn head<S: Shape, const IN: usize>(
    x: &Tensor<f32, S>,
    w: &Tensor2<f32, 3, IN>,
) -> Tensor<f32, LinearOut<S, Dim<3>>>
where
    S: LinearShape<Dim<IN>>,
{
    x.linear(w).relu()
}

/// A residual block, conv -> relu -> conv plus the input, generic over its channels: no bound.
fn residual<B: Dimension, const C: usize>(
    x: &Tensor<f32, (B, Dim<C>, Dim<9>, Dim<9>)>,
    w1: &Tensor4<f32, C, C, 3, 3>,
    w2: &Tensor4<f32, C, C, 3, 3>,
) -> Tensor<f32, (B, Dim<C>, Dim<9>, Dim<9>)> {
    let h = x.conv2d(w1, Same::default()).relu().conv2d(w2, Same::default());
    (&h + x).relu()
}

/// The residual block generic over its channels and `H x W`: a relation per conv, and the
/// second conv's output must be the input's shape for the sum (a padding-1 3x3 keeps it).
type Half<S, const C: usize> = Conv2dOut<S, C, 3, 3, Same>;
fn residual_hw<B: Dimension, H: Dimension, W: Dimension, const C: usize>(
    x: &Tensor<f32, (B, Dim<C>, H, W)>,
    w1: &Tensor4<f32, C, C, 3, 3>,
    w2: &Tensor4<f32, C, C, 3, 3>,
) -> Tensor<f32, (B, Dim<C>, H, W)>
where
    (B, Dim<C>, H, W): Conv2dShape<C, 3, 3, Same>,
    Half<(B, Dim<C>, H, W), C>: Conv2dShape<C, 3, 3, Same, Output<C> = (B, Dim<C>, H, W)>,
{
    let h = x.conv2d(w1, Same::default()).relu().conv2d(w2, Same::default());
    (&h + x).relu()
}

shapetorch::model! {
    /// A basic residual block generic over its channels and stride, made a module by `model!`.
    pub struct Block<const C: usize, const O: usize, const S: usize> {
        conv1: Conv2d<f32, C, O, 3, 3, ConvParams<S, 1, 1>>,
        conv2: Conv2d<f32, O, O, 3, 3, ConvParams<1, 1, 1>>,
    }
}

impl<const C: usize, const O: usize, const S: usize> Block<C, O, S> {
    fn forward<X>(
        &self,
        x: Tensor<f32, X>,
    ) -> Tensor<f32, Conv2dOut<Conv2dOut<X, O, 3, 3, ConvParams<S, 1, 1>>, O, 3, 3, ConvParams<1, 1, 1>>>
    where
        X: Conv2dShape<C, 3, 3, ConvParams<S, 1, 1>>,
        Conv2dOut<X, O, 3, 3, ConvParams<S, 1, 1>>: Conv2dShape<O, 3, 3, ConvParams<1, 1, 1>>,
    {
        self.conv2.forward(self.conv1.forward(x).relu()).relu()
    }
}

shapetorch::model! {
    /// One model holding the block at two sizes.
    pub struct TwoStages {
        stage1: Block<1, 4, 1>,
        stage2: Block<4, 8, 2>,
        fc: Linear<f32, 392, 10>,
    }
}

impl TwoStages {
    fn forward<B: Dimension>(&self, x: Tensor<f32, (B, Dim<1>, Dim<14>, Dim<14>)>) -> Tensor<f32, (B, Dim<10>)> {
        let x = self.stage1.forward(x); // [B, 4, 14, 14]
        let x = self.stage2.forward(x); // [B, 8, 7, 7]
        self.fc.forward(x.flatten())
    }
}

fn main() {
    let x = Tensor::<f32, (usize, Dim<1>, Dim<28>, Dim<28>)>::ones_shaped((2, Dim, Dim, Dim));
    let y = block_batch_channels(&x, &Tensor4::ones(), &Tensor2::zeros());
    assert_eq!(y.dims(), [2, 10]);

    let y = block_out_channels(&x, &Tensor4::<f32, 6, 1, 5, 5>::ones(), &Tensor2::<f32, 10, 864>::zeros());
    let y: Tensor<f32, (usize, Dim<10>)> = y;
    assert_eq!(y.dims(), [2, 10]);

    let x2 = Tensor::<f32, (usize, Dim<1>, Dim<20>, Dim<16>)>::ones_shaped((3, Dim, Dim, Dim));
    let y = block_height_width(&x2, &Tensor4::ones(), &Tensor2::<f32, 10, 384>::zeros()); // 8 * 8 * 6
    let y: Tensor<f32, (usize, Dim<10>)> = y;
    assert_eq!(y.dims(), [3, 10]);
    let y = block_height_width(&x, &Tensor4::ones(), &Tensor2::<f32, 10, 1152>::zeros());
    assert_eq!(y.dims(), [2, 10]);

    let seq = Tensor::<f32, (usize, Dim<7>, Dim<5>)>::ones_shaped((2, Dim, Dim));
    let z: Tensor<f32, (usize, Dim<7>, Dim<3>)> = head(&seq, &Tensor2::ones());
    assert_eq!(z.as_slice()[0], 5.0);

    let r = residual(&Tensor4::<f32, 2, 3, 9, 9>::ones(), &Tensor4::zeros(), &Tensor4::zeros());
    assert_eq!(r.as_slice()[0], 1.0);
    let r = residual_hw(&Tensor4::<f32, 2, 3, 5, 11>::ones(), &Tensor4::zeros(), &Tensor4::zeros());
    assert_eq!(r.dims(), [2, 3, 5, 11]);

    let mut model = TwoStages::new(0);
    let logits = model.forward(Tensor::<f32, (usize, Dim<1>, Dim<14>, Dim<14>)>::ones_shaped((4, Dim, Dim, Dim)));
    assert_eq!(logits.dims(), [4, 10]);
    assert_eq!(
        model.parameter_names(),
        vec![
            "stage1.conv1.weight", "stage1.conv1.bias", "stage1.conv2.weight", "stage1.conv2.bias",
            "stage2.conv1.weight", "stage2.conv1.bias", "stage2.conv2.weight", "stage2.conv2.bias",
            "fc.weight", "fc.bias",
        ]
    );
}

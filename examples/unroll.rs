//! The lecture's worked example of *unroll*: a 1-D convolution as a matrix multiply.
//!
//! Run with `cargo run --example unroll` (no flags; `--help` says so).

use clap::Parser;
use shapetorch::prelude::*;

/// The lecture's worked example of unroll: a 1-D convolution as a matrix multiply, printed
/// step by step (no flags).
#[derive(Parser, Debug)]
#[command(name = "unroll")]
struct Cli {}

fn main() -> shapetorch::Result<()> {
    Cli::parse();
    // One channel: input of length T = 6, kernel of width K = 3.
    let input = Tensor1::<f32, 6>::from_slice(&[1., 2., 3., 4., 5., 6.])?;
    let unrolled: Tensor2<f32, 6, 3> = input.unroll::<3>();
    println!("input  {input}");
    println!("unrolled (T x K), zero past the end:\n{unrolled}");

    let weight = Tensor2::<f32, 3, 1>::from_slice(&[5., 2., 3.])?;
    let output: Tensor2<f32, 6, 1> = unrolled.matmul(&weight);
    // output[t] = sum_k weight[k] * input[t + k], e.g. output[0] = 5*1 + 2*2 + 3*3 = 18
    println!("weight {}", weight.t());
    println!("output {}", output.t());

    // The same numbers from the convolution op (batch 1, 1 channel in, 1 out).
    let x = Tensor3::<f32, 1, 1, 6>::from_slice(input.as_slice())?;
    let w = Tensor3::<f32, 1, 1, 3>::from_slice(weight.as_slice())?;
    println!("conv1d_minitorch {}", x.conv1d_minitorch(&w));

    // Two input channels: each row holds both channels' windows side by side, T x (C*K) = 6 x 6.
    let input2 = Tensor2::<f32, 2, 6>::from_slice(&[
        1., 2., 3., 4., 5., 6., // channel 0
        6., 5., 4., 3., 2., 1., // channel 1
    ])?;
    let unrolled2: Tensor2<f32, 6, 6> = input2.unroll::<3>(); // 2 * 3 computed by the compiler
    println!("\ntwo channels\ninput\n{input2}");
    println!("unrolled (T x C*K):\n{unrolled2}");

    // A (C*K) x O = 6 x 3 weight: three output channels.
    let weight2 = Tensor2::<f32, 6, 3>::from_fn(|[row, o]| match o {
        0 => 1.0, // sums every window
        1 => {
            if row < 3 {
                1.0
            } else {
                0.0
            }
        } // sums channel 0's window only
        _ => {
            if row % 3 == 0 {
                1.0
            } else {
                -1.0
            }
        }
    });
    let output2: Tensor2<f32, 6, 3> = unrolled2.matmul(&weight2);
    println!("weight (C*K x O):\n{weight2}");
    println!("output (T x O):\n{output2}");

    // Again the same numbers from conv1d_minitorch: weight [O, C, K] is the (C*K) x O matrix
    // transposed and split; the output is [B, O, T], the transpose of the T x O matrix above.
    let x2: Tensor3<f32, 1, 2, 6> = input2.reshape();
    let w2: Tensor3<f32, 3, 2, 3> = weight2.t().reshape();
    println!("conv1d_minitorch (O x T):\n{}", x2.conv1d_minitorch(&w2));
    Ok(())
}

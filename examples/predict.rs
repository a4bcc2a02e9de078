//! Classifies MNIST test digits with weights saved by `mnist_lenet`: loads them into the typed
//! model (a file whose tensors do not fit the model's types is an error naming the tensor and
//! both shapes), then prints each digit as ASCII art with the predicted class and its
//! probability.
//!
//! ```text
//! cargo run --release --example mnist_lenet                       # writes target/mnist-lenet.safetensors
//! cargo run --release --example predict -- 0 1 2 42              # test images by index
//! cargo run --release --example predict -- --model lenet5 --weights FILE 7
//! ```
//!
//! Flags (`--help` lists each with its default): `--model lenet|lenet5|minitorch`, `--weights
//! FILE` (default `target/mnist-<model>.safetensors`), `--data DIR` (the MNIST files; default
//! `data/mnist`), then test image indices. Exit codes: 0 done, 2 a usage error (an index past
//! the test set), 1 a runtime error (weights or data that cannot be read or do not fit).

#[path = "common/cli.rs"]
mod cli;
#[path = "common/mnist_models.rs"]
mod mnist_models;

use std::path::PathBuf;

use clap::Parser;
use cli::Failure;
use mnist_models::{LeNet, LeNet5, MinitorchNet, MnistModel, ModelName};
use shapetorch::data::mnist::{Mnist, Split};
use shapetorch::prelude::*;

/// A digit as text: darker pixels as denser characters, two characters per pixel.
fn ascii(pixels: &[u8]) -> String {
    const SHADES: [char; 5] = [' ', '.', ':', 'o', '@'];
    let mut out = String::new();
    for row in pixels.chunks(28) {
        for &p in row {
            let c = SHADES[(p as usize * SHADES.len() / 256).min(SHADES.len() - 1)];
            out.push(c);
            out.push(c);
        }
        out.push('\n');
    }
    out
}

/// Classifies the test images `indices` with `M` loaded from `weights` and prints them.
fn predict<M: MnistModel>(
    weights: &PathBuf,
    test: &Mnist,
    indices: &[usize],
) -> Result<(), Failure> {
    let mut model = M::new(0);
    model.load(weights).map_err(|e| match e {
        shapetorch::Error::Io { .. } if !weights.exists() => cli::runtime(format!(
            "{e}\n(train first: cargo run --release --example mnist_lenet -- --model {})",
            M::NAME
        )),
        _ => cli::runtime(e),
    })?;
    model.eval();
    let (x, labels) = test.batch::<f32>(indices);
    let scores = model.scores(x);
    // probabilities: softmax of logits; for the log-softmax model, exp of its output
    let probs = if M::NAME == "minitorch" {
        scores.exp()
    } else {
        scores.softmax::<1>()
    };
    let predicted = probs.argmax::<1, 10>();
    for (row, &i) in indices.iter().enumerate() {
        let class = predicted.as_slice()[row];
        let p = probs[[row, class]];
        let truth = labels.as_slice()[row];
        print!("{}", ascii(test.image(i)));
        println!(
            "test image {i}: predicted {class} ({:.1} %), label {truth}{}\n",
            100.0 * p,
            if class == truth { "" } else { "  <- wrong" }
        );
    }
    Ok(())
}

/// Classifies MNIST test digits with weights saved by mnist_lenet, printing each as ASCII art
/// with the predicted class and its probability.
#[derive(Parser, Debug)]
#[command(name = "predict", allow_negative_numbers = true)]
struct Cli {
    /// The network the weights are for
    #[arg(long, value_enum, default_value_t = ModelName::Lenet)]
    model: ModelName,
    /// The weights (safetensors) [default: target/mnist-<model>.safetensors]
    #[arg(long)]
    weights: Option<PathBuf>,
    /// Directory of the MNIST test files (t10k-images-idx3-ubyte[.gz], ...)
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist"))]
    data: PathBuf,
    /// Test images to classify, by index (0 to 9999 for MNIST's test set)
    #[arg(default_values_t = [0, 1, 2])]
    indices: Vec<usize>,
}

fn main() {
    let o = Cli::parse();
    cli::exit_on("predict", run(&o));
}

/// Everything after parsing: the test set loaded and the indices checked against it, then
/// the weights loaded and the images classified.
fn run(o: &Cli) -> Result<(), Failure> {
    let test = Mnist::load(&o.data, Split::Test)?;
    test.check_image_size(&o.data.display().to_string(), 28, 28)?;
    if let Some(&bad) = o.indices.iter().find(|&&i| i >= test.len()) {
        return Err(cli::usage(format!(
            "image {bad} does not exist: the test set has {} images",
            test.len()
        )));
    }
    let weights = o.weights.clone().unwrap_or_else(|| {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target"))
            .join(format!("mnist-{}.safetensors", o.model.as_str()))
    });
    match o.model {
        ModelName::Lenet => predict::<LeNet>(&weights, &test, &o.indices),
        ModelName::Lenet5 => predict::<LeNet5>(&weights, &test, &o.indices),
        ModelName::Minitorch => predict::<MinitorchNet>(&weights, &test, &o.indices),
    }
}

/// Smoke test, run by `cargo test` (the example is built with the test harness too).
#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("predict").chain(args.iter().copied()))
    }

    #[test]
    fn predicts_from_saved_weights_and_explains_a_missing_file() {
        let dir = std::env::temp_dir().join(format!("shapetorch-predict-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let weights = dir.join("lenet5.safetensors");
        LeNet5::new(3).save(&weights).unwrap();
        let data = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist"));
        let test = Mnist::load(&data, Split::Test).unwrap();
        predict::<LeNet5>(&weights, &test, &[0, 5]).unwrap();
        let err = predict::<LeNet5>(&dir.join("none.safetensors"), &test, &[0]).unwrap_err();
        assert!(err.message().contains("train first"), "{err:?}");
        let err = predict::<LeNet>(&weights, &test, &[0]).unwrap_err();
        assert!(
            err.message()
                .contains("has shape [6, 1, 5, 5], the model's has [32, 1, 5, 5]"),
            "{err:?}"
        );
        assert_eq!(ascii(&[255; 784]).lines().count(), 28);
        // through the command line: the same weights, and an index past the test set
        let w = weights.to_str().unwrap();
        run(&parse(&["--model", "lenet5", "--weights", w, "7"]).unwrap()).unwrap();
        let failure = run(&parse(&["--model", "lenet5", "--weights", w, "10000"]).unwrap());
        let failure = failure.unwrap_err();
        assert_eq!(failure.exit_code(), 2);
        assert_eq!(
            failure.message(),
            "image 10000 does not exist: the test set has 10000 images"
        );
        // a device is refused before it is read (it grew the process to gigabytes)
        #[cfg(unix)]
        {
            let o = parse(&["--weights", "/dev/zero"]).unwrap();
            let failure = run(&o).unwrap_err();
            assert_eq!(failure.exit_code(), 1);
            assert_eq!(
                failure.message(),
                "/dev/zero: cannot read: not a regular file but a character device"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn help_lists_each_flag_with_its_default() {
        Cli::command().debug_assert();
        let help = Cli::command().render_help().to_string();
        for needle in [
            "--model <MODEL>",
            "[default: lenet] [possible values: lenet, lenet5, minitorch]",
            "--weights <WEIGHTS>",
            "--data <DATA>",
            "[INDICES]...",
            "[default: 0 1 2]",
            "-h, --help",
        ] {
            assert!(help.contains(needle), "`{needle}` is not in:\n{help}");
        }
        for (args, needle) in [
            (&["-1"][..], "invalid value '-1'"),
            (&["x"], "invalid value 'x'"),
            (&["--model", "vgg"], "invalid value 'vgg'"),
        ] {
            let err = parse(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
            assert!(err.to_string().contains(needle), "{args:?}: {err}");
        }
    }
}

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
//! Flags: `--model lenet|lenet5|minitorch` (lenet), `--weights FILE` (default
//! `target/mnist-<model>.safetensors`), `--data DIR` (the MNIST files; default `data/mnist`).

#[path = "common/mnist_models.rs"]
mod mnist_models;

use std::path::PathBuf;

use mnist_models::{LeNet, LeNet5, MinitorchNet, MnistModel};
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

fn predict<M: MnistModel>(
    weights: &PathBuf,
    test: &Mnist,
    indices: &[usize],
) -> Result<(), String> {
    let mut model = M::new(0);
    model.load(weights).map_err(|e| match e {
        shapetorch::Error::Io { .. } => format!(
            "{e}\n(train first: cargo run --release --example mnist_lenet -- --model {})",
            M::NAME
        ),
        _ => e.to_string(),
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

fn main() {
    let mut model = "lenet".to_string();
    let mut weights = None;
    let mut data = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist"));
    let mut indices = Vec::new();
    let mut args = std::env::args().skip(1);
    let fail = |message: String| -> ! {
        eprintln!("predict: {message}");
        std::process::exit(2)
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--model" | "--weights" | "--data" => {
                let value = args
                    .next()
                    .unwrap_or_else(|| fail(format!("{arg} needs a value")));
                match arg.as_str() {
                    "--model" => model = value,
                    "--weights" => weights = Some(PathBuf::from(value)),
                    _ => data = PathBuf::from(value),
                }
            }
            _ => indices.push(
                arg.parse::<usize>()
                    .unwrap_or_else(|_| fail(format!("`{arg}` is not a flag nor an image index"))),
            ),
        }
    }
    if indices.is_empty() {
        indices = vec![0, 1, 2];
    }
    let test = Mnist::load(&data, Split::Test).unwrap_or_else(|e| fail(e.to_string()));
    if let Some(&bad) = indices.iter().find(|&&i| i >= test.len()) {
        fail(format!(
            "image {bad} does not exist: the test set has {} images",
            test.len()
        ));
    }
    let weights = weights.unwrap_or_else(|| {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target"))
            .join(format!("mnist-{model}.safetensors"))
    });
    let result = match model.as_str() {
        "lenet" => predict::<LeNet>(&weights, &test, &indices),
        "lenet5" => predict::<LeNet5>(&weights, &test, &indices),
        "minitorch" => predict::<MinitorchNet>(&weights, &test, &indices),
        other => Err(format!("--model {other}: lenet, lenet5 or minitorch")),
    };
    if let Err(e) = result {
        eprintln!("predict: {e}");
        std::process::exit(1);
    }
}

/// Smoke test, run by `cargo test` (the example is built with the test harness too).
#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(err.contains("train first"), "{err}");
        let err = predict::<LeNet>(&weights, &test, &[0]).unwrap_err();
        assert!(
            err.contains("has shape [6, 1, 5, 5], the model's has [32, 1, 5, 5]"),
            "{err}"
        );
        assert_eq!(ascii(&[255; 784]).lines().count(), 28);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! The reference CNN of the MNIST-1D paper (Greydanus & Kobak) on the MNIST-1D data set, which
//! the library generates bit for bit as the official one: three 1-D convolutions of 25 channels
//! (kernels 5, 3, 3; stride 2, padding 1; ReLU), lengths 40 → 19 → 10 → 5, then a linear layer
//! 125 → 10. The 125 is computed by the compiler (the paper's code hard-codes it, with a
//! comment that assumes length 50).
//!
//! ```text
//! cargo run --release --example mnist1d_cnn                  # 3 seeds, 8000 steps each
//! cargo run --release --example mnist1d_cnn -- --seeds 0 --steps 2000
//! ```
//!
//! Flags (`--help` lists each with its default and range): `--seeds 0,1,2` (or a range,
//! `0-39`), `--steps`, `--batch-size`, `--lr` (Adam), `--threads`, `--eval-every`, `--init FILE`
//! (start from these weights, safetensors with PyTorch's names: to compare a run with
//! PyTorch's from the same start). Batches are taken in order from the (already shuffled)
//! training set, as the paper's training loop does. Exit codes: 0 done, 2 a usage error, 1 a
//! runtime error (an `--init` file that cannot be loaded).

#[path = "common/cli.rs"]
mod cli;

use std::time::Instant;

use clap::Parser;
use cli::Failure;
use indicatif::{ProgressBar, ProgressStyle};
use shapetorch::data::mnist1d::{Mnist1d, Mnist1dArgs};
use shapetorch::data::Batches;
use shapetorch::prelude::*;

type P = ConvParams<2, 1>;

shapetorch::model! {
    /// The MNIST-1D paper's `ConvBase`.
    pub struct ConvBase {
        conv1: Conv1d<f32, 1, 25, 5, P>,
        conv2: Conv1d<f32, 25, 25, 3, P>,
        conv3: Conv1d<f32, 25, 25, 3, P>,
        linear: Linear<f32, 125, 10>,
    }
}

impl ConvBase {
    /// `[B, 1, 40]` sequences → `[B, 10]` class scores.
    fn forward(&self, x: Tensor<f32, (usize, Dim<1>, Dim<40>)>) -> Tensor<f32, (usize, Dim<10>)> {
        let h1 = self.conv1.forward(x).relu(); // [B, 25, 19]
        let h2 = self.conv2.forward(h1).relu(); // [B, 25, 10]
        let h3 = self.conv3.forward(h2).relu(); // [B, 25, 5]
        self.linear.forward(h3.flatten()) // [B, 125] -> [B, 10]
    }
}

/// Trains the MNIST-1D paper's CNN from several seeds and reports each seed's test accuracy
/// and their mean.
#[derive(Parser, Debug)]
#[command(name = "mnist1d_cnn", allow_negative_numbers = true)]
struct Cli {
    /// Seeds of the initial weights: a list (0,1,2), an inclusive range (0-39) or both (0-9,20);
    /// 1 to 10000 seeds
    // (the path spelled out: clap's derive reads a plain `Vec` as a repeatable flag)
    #[arg(long, default_value = "0,1,2", value_parser = cli::seeds)]
    seeds: ::std::vec::Vec<u64>,
    /// Adam steps per seed (at least 1)
    #[arg(long, default_value_t = 8000, value_parser = cli::at_least_one)]
    steps: usize,
    /// Sequences per step (1 to the 4000 training sequences)
    #[arg(long, default_value_t = 100, value_parser = cli::at_least_one)]
    batch_size: usize,
    /// Adam's learning rate, a finite number above 0
    #[arg(long, default_value_t = 1e-2, value_parser = cli::learning_rate)]
    lr: f32,
    /// Threads (1 to 1024) [default: one per core]
    #[arg(long, value_parser = cli::threads)]
    threads: Option<usize>,
    /// Print the test accuracy every N steps (at least 1)
    #[arg(long, default_value_t = 1000, value_parser = cli::at_least_one)]
    eval_every: usize,
    /// Start from these weights (safetensors, PyTorch's parameter names) instead of the seed's
    #[arg(long)]
    init: Option<String>,
}

/// Everything after parsing: the data generated, the batch size checked against it, one run
/// per seed and the summary.
fn run_all(o: &Cli) -> Result<(), Failure> {
    cli::use_threads(o.threads)?;
    let start = Instant::now();
    let data = Mnist1d::generate(&Mnist1dArgs::default())?;
    if o.batch_size > data.train_len() {
        return Err(cli::usage(format!(
            "--batch-size {}: the training set has {} sequences",
            o.batch_size,
            data.train_len()
        )));
    }
    println!(
        "MNIST-1D: {} training and {} test sequences of {} (generated in {:.2} s); \
         Adam lr {}, batch {}, {} steps, {} threads",
        data.train_len(),
        data.test_len(),
        data.length,
        start.elapsed().as_secs_f64(),
        o.lr,
        o.batch_size,
        o.steps,
        rayon::current_num_threads()
    );
    // On one of rayon's threads, so the kernels share the cores with the pool's other threads
    // and not with a waiting main thread (as in mnist_lenet).
    let accuracies: Vec<f64> = rayon::scope(|_| {
        o.seeds
            .iter()
            .map(|&s| run(o, &data, s))
            .collect::<Result<_, _>>()
    })?;
    let n = accuracies.len() as f64;
    let mean = accuracies.iter().sum::<f64>() / n;
    // Sample standard deviation, and the standard error of the mean: seeds differ by about a
    // point, so a mean over 3 seeds is only known to about ±0.6.
    let sd =
        (accuracies.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
    println!(
        "mean test accuracy over {} seed(s): {mean:.2} % (sd {sd:.2}, standard error {:.2}; {accuracies:.1?}), {:.1} s in all",
        accuracies.len(),
        sd / n.sqrt(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Test accuracy (%) of `model` on the whole test set.
fn test_accuracy(model: &ConvBase, data: &Mnist1d) -> f64 {
    let indices: Vec<usize> = (0..data.test_len()).collect();
    let (x, labels) = data.test_batch::<f32>(&indices);
    let predicted = model.forward(x).argmax::<1, 10>();
    let correct = predicted
        .as_slice()
        .iter()
        .zip(labels.as_slice())
        .filter(|(p, l)| p == l)
        .count();
    100.0 * correct as f64 / indices.len() as f64
}

/// Trains one model from `seed`; returns its final test accuracy.
fn run(o: &Cli, data: &Mnist1d, seed: u64) -> Result<f64, Failure> {
    let mut model = ConvBase::new(seed);
    if let Some(init) = &o.init {
        model.load(init)?;
    }
    let tape = Tape::new();
    model.trace(&tape);
    let mut adam = Adam::new(o.lr);
    let bar = ProgressBar::new(o.steps as u64).with_style(
        ProgressStyle::with_template("seed {prefix} [{bar:30}] {pos}/{len} steps  {msg}  {eta}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(seed.to_string());
    let start = Instant::now();
    // The paper's loop: batch b is examples [b*B, (b+1)*B) modulo the training set.
    let mut batches = Batches::sequential(data.train_len(), o.batch_size).drop_last();
    let mut running = 0.0f64;
    for step in 1..=o.steps {
        let indices = batches.next().unwrap_or_else(|| {
            batches = Batches::sequential(data.train_len(), o.batch_size).drop_last();
            batches.next().expect("at least one full batch")
        });
        let (x, labels) = data.train_batch::<f32>(&indices);
        let loss = model.forward(x).cross_entropy(&labels);
        let value = loss.item() as f64;
        if o.init.is_some() && (step <= 5 || step % 1000 == 1) {
            bar.suspend(|| println!("step {}: loss {value}", step - 1));
        }
        adam.step(&mut model, &loss.backward());
        running = if step == 1 {
            value
        } else {
            0.99 * running + 0.01 * value
        };
        bar.set_message(format!("loss {running:.4}"));
        bar.inc(1);
        if step.is_multiple_of(o.eval_every) && step < o.steps {
            let _no_grad = tape.no_grad();
            let accuracy = test_accuracy(&model, data);
            bar.suspend(|| {
                println!("seed {seed} step {step}: train loss {running:.4}, test accuracy {accuracy:.1} %")
            });
        }
    }
    bar.finish_and_clear();
    let _no_grad = tape.no_grad();
    let accuracy = test_accuracy(&model, data);
    println!(
        "seed {seed}: test accuracy {accuracy:.1} % after {} steps ({:.1} s)",
        o.steps,
        start.elapsed().as_secs_f64()
    );
    Ok(accuracy)
}

fn main() {
    let o = Cli::parse();
    cli::exit_on("mnist1d_cnn", run_all(&o));
}

/// Smoke test, run by `cargo test` (the example is built with the test harness too).
#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("mnist1d_cnn").chain(args.iter().copied()))
    }

    #[test]
    fn a_short_run_learns() {
        let data = Mnist1d::generate(&Mnist1dArgs::default()).unwrap();
        let o = parse(&["--seeds", "0", "--steps", "200", "--eval-every", "100"]).unwrap();
        // chance is 10 %
        let accuracy = run(&o, &data, 0).unwrap();
        assert!(accuracy > 30.0, "after 200 steps: {accuracy} %");
    }

    #[test]
    fn help_lists_each_flag_with_its_default_and_range() {
        Cli::command().debug_assert();
        let help = Cli::command().render_help().to_string();
        for needle in [
            "--seeds <SEEDS>",
            "1 to 10000 seeds [default: 0,1,2]",
            "--steps <STEPS>",
            "(at least 1) [default: 8000]",
            "--batch-size <BATCH_SIZE>",
            "[default: 100]",
            "--lr <LR>",
            "finite number above 0 [default: 0.01]",
            "--threads <THREADS>",
            "--eval-every <EVAL_EVERY>",
            "[default: 1000]",
            "--init <INIT>",
            "-h, --help",
        ] {
            assert!(help.contains(needle), "`{needle}` is not in:\n{help}");
        }
    }

    /// The issue's cases: `--seeds 0-18446744073709551615` overflowed the list's capacity, and
    /// `--batch-size 4001` panicked; both are usage errors now (exit code 2), as are the other
    /// values out of range.
    #[test]
    fn values_out_of_range_are_usage_errors() {
        for (args, needle) in [
            (
                &["--seeds", "0-18446744073709551615"][..],
                "more than 10000 seeds",
            ),
            (&["--seeds", "5-4"], "the range 5-4 is empty"),
            (&["--seeds", ""], "is not a seed"),
            (&["--lr", "inf"], "inf is not a finite number above 0"),
            (&["--lr", "-0.01"], "-0.01 is not a finite number above 0"),
            (&["--steps", "0"], "0 is below 1"),
            (&["--eval-every", "0"], "0 is below 1"),
            (&["--batch-size", "0"], "0 is below 1"),
        ] {
            let err = parse(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
            assert!(err.to_string().contains(needle), "{args:?}: {err}");
        }
        let o = parse(&["--batch-size", "4001"]).unwrap();
        let failure = run_all(&o).unwrap_err();
        assert_eq!(failure.exit_code(), 2);
        assert_eq!(
            failure.message(),
            "--batch-size 4001: the training set has 4000 sequences"
        );
        // a weights file that does not load is a runtime error (exit code 1)
        let o = parse(&["--steps", "1", "--init", "/no/such/file.safetensors"]).unwrap();
        let data = Mnist1d::generate(&Mnist1dArgs::default()).unwrap();
        let failure = run(&o, &data, 0).unwrap_err();
        assert_eq!(failure.exit_code(), 1);
        assert!(failure
            .message()
            .starts_with("/no/such/file.safetensors: cannot read"));
    }
}

//! Trains a LeNet-style CNN on MNIST (the full 60,000 training digits, shipped in `data/mnist`)
//! and reports test accuracy after each epoch; the network is a struct of typed layers whose
//! every size the compiler checks (`examples/common/mnist_models.rs`).
//!
//! ```text
//! cargo run --release --example mnist_lenet                      # 32/64 channels, 5 epochs
//! cargo run --release --example mnist_lenet -- --model lenet5    # the classic LeNet-5
//! cargo run --release --example mnist_lenet -- --model minitorch # the lecture's network
//! ```
//!
//! Flags (`--help` lists each with its default and range): `--model`, `--epochs`,
//! `--batch-size`, `--optimizer adam|sgd`, `--lr`, `--threads`, `--data DIR` (the four MNIST
//! files, gzip'd or raw), `--seed`, `--out FILE` (the weights, safetensors), `--plot FILE`
//! (training curves, PNG), `--limit N` (a smoke run). Exit codes: 0 done, 2 a usage error (a
//! value out of range, a batch larger than the data), 1 a runtime error (a data file, an
//! output path that cannot be written: checked before training).

#[path = "common/cli.rs"]
mod cli;
#[path = "common/mnist_models.rs"]
mod mnist_models;
#[path = "common/plot.rs"]
mod plot;

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use cli::Failure;
use indicatif::{ProgressBar, ProgressStyle};
use mnist_models::{LeNet, LeNet5, MinitorchNet, MnistModel, ModelName};
use shapetorch::data::mnist::Mnist;
use shapetorch::data::Batches;
use shapetorch::prelude::*;

/// Trains a CNN on MNIST (60,000 training digits) and reports the test accuracy after each
/// epoch; writes the weights and the training curves.
#[derive(Parser, Debug)]
#[command(name = "mnist_lenet", allow_negative_numbers = true)]
struct Cli {
    /// The network
    #[arg(long, value_enum, default_value_t = ModelName::Lenet)]
    model: ModelName,
    /// Passes over the training digits (at least 1)
    #[arg(long, default_value_t = 5, value_parser = cli::at_least_one)]
    epochs: usize,
    /// Digits per step (1 to the number of training digits)
    #[arg(long, default_value_t = 64, value_parser = cli::at_least_one)]
    batch_size: usize,
    /// The optimiser (sgd with momentum 0.9)
    #[arg(long, value_enum, default_value_t = OptimizerName::Adam)]
    optimizer: OptimizerName,
    /// Learning rate, a finite number above 0 [default: 0.001 with adam, 0.01 with sgd]
    #[arg(long, value_parser = cli::learning_rate)]
    lr: Option<f32>,
    /// The learning rate's schedule over the run, stepped after every batch
    #[arg(long, value_enum, default_value_t = ScheduleName::Cosine)]
    schedule: ScheduleName,
    /// Threads (1 to 1024) [default: one per core]
    #[arg(long, value_parser = cli::threads)]
    threads: Option<usize>,
    /// Directory of the four MNIST files (train-images-idx3-ubyte[.gz], ...)
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist"))]
    data: PathBuf,
    /// Seed of the initial weights and of the order of the batches (any u64)
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The trained weights (safetensors) [default: target/mnist-<model>.safetensors]
    #[arg(long)]
    out: Option<PathBuf>,
    /// The training curves (PNG) [default: target/mnist-<model>.png]
    #[arg(long)]
    plot: Option<PathBuf>,
    /// A smoke run: the first N batches of each epoch (at least 1), tested on 1,000 digits
    #[arg(long, value_parser = cli::at_least_one)]
    limit: Option<usize>,
}

/// `--optimizer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum OptimizerName {
    /// Adam
    Adam,
    /// SGD with momentum 0.9
    Sgd,
}

/// `--schedule`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ScheduleName {
    /// CosineAnnealingLR from --lr down to 0 at the last step
    Cosine,
    /// --lr at every step
    Constant,
}

impl Cli {
    /// The learning rate: `--lr`, else the optimiser's default.
    fn lr(&self) -> f32 {
        self.lr.unwrap_or(match self.optimizer {
            OptimizerName::Adam => 1e-3,
            OptimizerName::Sgd => 1e-2,
        })
    }

    /// `--out`, or `target/mnist-<model>.safetensors`.
    fn out(&self) -> PathBuf {
        let default = || target_dir().join(format!("mnist-{}.safetensors", self.model.as_str()));
        self.out.clone().unwrap_or_else(default)
    }

    /// `--plot`, or `target/mnist-<model>.png`.
    fn plot(&self) -> PathBuf {
        let default = || target_dir().join(format!("mnist-{}.png", self.model.as_str()));
        self.plot.clone().unwrap_or_else(default)
    }
}

/// The repository's `target/`, where the outputs go by default.
fn target_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target"))
}

/// The optimiser the options ask for.
enum Optim {
    Adam(Adam<f32>),
    Sgd(Sgd<f32>),
}

impl Optim {
    fn step<M: Module<f32>>(&mut self, model: &mut M, grads: &Gradients<f32>) {
        match self {
            Optim::Adam(o) => o.step(model, grads),
            Optim::Sgd(o) => o.step(model, grads),
        }
    }

    /// The optimiser as a schedule drives it.
    fn as_dyn(&mut self) -> &mut dyn Optimizer<f32> {
        match self {
            Optim::Adam(o) => o,
            Optim::Sgd(o) => o,
        }
    }
}

/// The share of `indices` that `model` classifies right, in evaluation mode.
fn accuracy<M: MnistModel>(model: &M, set: &Mnist, indices: &[usize]) -> f64 {
    let correct: usize = indices
        .chunks(1000)
        .map(|chunk| {
            let (x, labels) = set.batch::<f32>(chunk);
            let predicted = model.scores(x).argmax::<1, 10>();
            predicted
                .as_slice()
                .iter()
                .zip(labels.as_slice())
                .filter(|(p, l)| p == l)
                .count()
        })
        .sum();
    100.0 * correct as f64 / indices.len().max(1) as f64
}

/// Trains `M` as `o` says and writes its weights and curves; returns the last test accuracy
/// (%), or a runtime error when an output cannot be written.
fn train<M: MnistModel>(o: &Cli, train_set: &Mnist, test_set: &Mnist) -> Result<f64, Failure> {
    let mut model = M::new(o.seed);
    println!(
        "model {} ({} parameters), {} epochs, batch {}, {:?} (lr {}, {:?}), seed {}, {} threads",
        M::NAME,
        model.parameter_count(),
        o.epochs,
        o.batch_size,
        o.optimizer,
        o.lr(),
        o.schedule,
        o.seed,
        rayon::current_num_threads()
    );
    // each layer's output shape (from one forward pass on a batch of one) and parameters
    let summary = Summary::new(&mut model, |model| {
        model.scores(Tensor::zeros_shaped((1, Dim, Dim, Dim)));
    });
    println!("{summary}");
    let tape = Tape::new();
    model.trace(&tape);
    let mut optim = match o.optimizer {
        OptimizerName::Adam => Optim::Adam(Adam::new(o.lr())),
        OptimizerName::Sgd => Optim::Sgd(Sgd::new(o.lr()).momentum(0.9)),
    };
    // the steps of the whole run, for the schedule: every epoch takes the same count
    let steps_per_epoch = o
        .limit
        .unwrap_or(usize::MAX)
        .min(Batches::shuffled(train_set.len(), o.batch_size, 0).batch_count());
    let schedule: Schedule = match o.schedule {
        ScheduleName::Cosine => CosineAnnealingLR::new(o.epochs * steps_per_epoch).into(),
        // a factor of 1 for ever: the constant rate as a schedule
        ScheduleName::Constant => ExponentialLR::new(1.0).into(),
    };
    let mut schedule = LrScheduler::new(optim.as_dyn(), schedule)
        .map_err(|e| cli::usage(format!("--schedule: {e}")))?;
    let test: Vec<usize> =
        (0..test_set
            .len()
            .min(if o.limit.is_some() { 1000 } else { usize::MAX }))
            .collect();
    let (mut losses, mut accuracies) = (Vec::new(), Vec::new());
    let mut step = 0usize;
    let start_all = Instant::now();
    let mut last_accuracy = 0.0;
    for epoch in 1..=o.epochs {
        let batches = Batches::shuffled(
            train_set.len(),
            o.batch_size,
            o.seed.wrapping_add(epoch as u64),
        );
        let count = o.limit.unwrap_or(usize::MAX).min(batches.batch_count());
        let bar = ProgressBar::new(count as u64).with_style(
            ProgressStyle::with_template(
                "epoch {prefix} [{bar:30}] {pos}/{len}  {msg}  {elapsed}<{eta}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(format!("{epoch}/{}", o.epochs));
        model.train();
        let start = Instant::now();
        let (mut seen, mut running) = (0usize, 0.0f64);
        for indices in batches.take(count) {
            let (x, labels) = train_set.batch::<f32>(&indices);
            let loss = model.loss(x, &labels);
            let value = loss.item() as f64;
            optim.step(&mut model, &loss.backward());
            schedule.step(optim.as_dyn());
            seen += indices.len();
            running = if step == 0 {
                value
            } else {
                0.98 * running + 0.02 * value
            };
            step += 1;
            if step.is_multiple_of(20) {
                losses.push((step as f64, running));
            }
            bar.set_message(format!(
                "loss {running:.4}  {:.0} images/s",
                seen as f64 / start.elapsed().as_secs_f64()
            ));
            bar.inc(1);
        }
        bar.finish_and_clear();
        let train_time = start.elapsed().as_secs_f64();
        model.eval();
        let accuracy = {
            let _no_grad = tape.no_grad();
            accuracy(&model, test_set, &test)
        };
        accuracies.push((epoch as f64, accuracy));
        last_accuracy = accuracy;
        println!(
            "epoch {epoch}: train loss {running:.4}, test accuracy {accuracy:.2} %, \
             {train_time:.1} s ({:.0} images/s)",
            seen as f64 / train_time
        );
    }
    println!(
        "{}: test accuracy {last_accuracy:.2} % after {} epochs, {:.1} s in all",
        M::NAME,
        o.epochs,
        start_all.elapsed().as_secs_f64()
    );
    let out = o.out();
    model
        .save(&out)
        .map_err(|e| cli::runtime(format!("could not save the weights: {e}")))?;
    println!("weights: {}", out.display());
    let png = o.plot();
    let panels = [
        plot::Panel {
            title: "train loss (smoothed) by step",
            lines: vec![(plot::BLUE, &losses[..])],
        },
        plot::Panel {
            title: "test accuracy (%) by epoch",
            lines: vec![(plot::ORANGE, &accuracies[..])],
        },
    ];
    plot::save_png(&png, &panels)
        .map_err(|e| cli::runtime(format!("could not write the plot {}: {e}", png.display())))?;
    println!("plot: {}", png.display());
    Ok(last_accuracy)
}

fn main() {
    let o = Cli::parse();
    cli::exit_on("mnist_lenet", run(&o));
}

/// Everything after parsing: the outputs checked, the data loaded and checked against the
/// model and the flags, then training.
fn run(o: &Cli) -> Result<(), Failure> {
    cli::use_threads(o.threads)?;
    if o.out.is_none() || o.plot.is_none() {
        // the default outputs' directory (absent when CARGO_TARGET_DIR points elsewhere)
        std::fs::create_dir_all(target_dir())
            .map_err(|e| cli::runtime(format!("{}: {e}", target_dir().display())))?;
    }
    cli::check_writable("--out", &o.out())?;
    cli::check_writable("--plot", &o.plot())?;
    let load = Instant::now();
    let (train_set, test_set) = Mnist::load_dir(&o.data)?;
    let source = o.data.display().to_string();
    train_set.check_image_size(&source, 28, 28)?;
    test_set.check_image_size(&source, 28, 28)?;
    if o.batch_size > train_set.len() {
        return Err(cli::usage(format!(
            "--batch-size {}: the training set has {} digits",
            o.batch_size,
            train_set.len()
        )));
    }
    println!(
        "MNIST: {} training and {} test digits from {} ({:.1} s)",
        train_set.len(),
        test_set.len(),
        o.data.display(),
        load.elapsed().as_secs_f64()
    );
    // Train on one of rayon's threads, not on this one: the kernels then split their work
    // with the pool's other threads while this thread sleeps, instead of a third thread
    // competing with the pool for the cores between parallel sections.
    rayon::scope(|_| match o.model {
        ModelName::Lenet => train::<LeNet>(o, &train_set, &test_set),
        ModelName::Lenet5 => train::<LeNet5>(o, &train_set, &test_set),
        ModelName::Minitorch => train::<MinitorchNet>(o, &train_set, &test_set),
    })?;
    Ok(())
}

/// Smoke tests, run by `cargo test` (the example is built with the test harness too).
#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("mnist_lenet").chain(args.iter().copied()))
    }

    /// A smoke run of `model`: 60 batches of 32. The main model runs the default schedule
    /// (cosine, over those 60 steps), the others a constant rate, as their thresholds assume.
    fn smoke_options(model: &str, dir: &std::path::Path) -> Cli {
        let out = dir.join(format!("{model}.safetensors"));
        let plot = dir.join(format!("{model}.png"));
        let (out, plot) = (out.to_str().unwrap(), plot.to_str().unwrap());
        let schedule = if model == "lenet" {
            "cosine"
        } else {
            "constant"
        };
        parse(&[
            "--schedule",
            schedule,
            "--model",
            model,
            "--epochs",
            "1",
            "--batch-size",
            "32",
            "--seed",
            "1",
            "--out",
            out,
            "--plot",
            plot,
            "--limit",
            "60",
        ])
        .unwrap()
    }

    #[test]
    fn a_short_run_of_each_model_beats_chance_by_far_and_writes_its_files() {
        let dir = std::env::temp_dir().join(format!("shapetorch-mnist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (train_set, test_set) = Mnist::load_dir(smoke_options("lenet", &dir).data).unwrap();
        // 60 batches of 32 digits, tested on 1,000: chance is 10 %
        let lenet5 = train::<LeNet5>(&smoke_options("lenet5", &dir), &train_set, &test_set);
        let lenet5 = lenet5.unwrap();
        assert!(lenet5 > 70.0, "LeNet-5 after 60 batches: {lenet5} %");
        let minitorch =
            train::<MinitorchNet>(&smoke_options("minitorch", &dir), &train_set, &test_set)
                .unwrap();
        assert!(
            minitorch > 40.0,
            "MiniTorch's network after 60 batches: {minitorch} %"
        );
        let lenet = train::<LeNet>(&smoke_options("lenet", &dir), &train_set, &test_set);
        let lenet = lenet.unwrap();
        assert!(lenet > 70.0, "LeNet after 60 batches: {lenet} %");
        for file in [
            "lenet5.safetensors",
            "lenet5.png",
            "lenet.png",
            "minitorch.safetensors",
        ] {
            let bytes = std::fs::read(dir.join(file)).unwrap();
            assert!(bytes.len() > 1000, "{file}: {} bytes", bytes.len());
        }
        // the saved weights load back into the same type, and not into another
        let mut again = LeNet5::new(9);
        again.load(dir.join("lenet5.safetensors")).unwrap();
        let err = LeNet::new(9)
            .load(dir.join("lenet5.safetensors"))
            .unwrap_err();
        assert!(err.to_string().contains("conv1.weight"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// `--help` lists every flag with its default (where it has one) and its range.
    #[test]
    fn help_lists_each_flag_with_its_default_and_range() {
        Cli::command().debug_assert();
        // `-h`, the summary: one line a flag (the long form, `--help`, says more)
        let help = Cli::command().render_help().to_string();
        for needle in [
            "--model <MODEL>",
            "[default: lenet]",
            "[possible values: lenet, lenet5, minitorch]",
            "--epochs <EPOCHS>",
            "(at least 1)",
            "[default: 5]",
            "--batch-size <BATCH_SIZE>",
            "[default: 64]",
            "--optimizer <OPTIMIZER>",
            "[default: adam]",
            "--lr <LR>",
            "finite number above 0 [default: 0.001 with adam, 0.01 with sgd]",
            "--schedule <SCHEDULE>",
            "[default: cosine]",
            "[possible values: cosine, constant]",
            "--threads <THREADS>",
            "(1 to 1024)",
            "--data <DATA>",
            "--seed <SEED>",
            "[default: 0]",
            "--out <OUT>",
            "--plot <PLOT>",
            "--limit <LIMIT>",
            "-h, --help",
        ] {
            assert!(help.contains(needle), "`{needle}` is not in:\n{help}");
        }
        let err = parse(&["--help"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::DisplayHelp);
        assert_eq!(err.exit_code(), 0);
    }

    /// The issue's cases: each a usage error (exit code 2) naming the value; they trained (or
    /// not) and exited 0, or asked for "--help needs a value".
    #[test]
    fn values_out_of_range_are_usage_errors() {
        for (args, needle) in [
            (&["--lr", "nan"][..], "NaN is not a finite number above 0"),
            (&["--lr", "-1"], "-1 is not a finite number above 0"),
            (&["--lr", "0"], "0 is not a finite number above 0"),
            (&["--epochs", "0"], "0 is below 1"),
            (&["--batch-size", "0"], "0 is below 1"),
            (&["--threads", "0"], "0 is not in 1..=1024"),
            (&["--limit", "0"], "0 is below 1"),
            (&["--model", "resnet"], "invalid value 'resnet'"),
            (&["--optimizer", "rmsprop"], "invalid value 'rmsprop'"),
            (&["--seed", "-1"], "invalid value '-1' for '--seed <SEED>'"),
            (&["--epoch", "3"], "unexpected argument '--epoch'"),
            (&["--epochs"], "a value is required"),
        ] {
            let err = parse(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
            let message = err.to_string();
            assert!(message.contains(needle), "{args:?}: {message}");
        }
    }

    /// Checks after parsing: an output that cannot be written is found before training (a
    /// runtime error, exit code 1), a batch larger than the data is a usage error (exit code
    /// 2), and images of another size than 28 x 28 are refused with both sizes (they panicked
    /// in `Mnist::batch`).
    #[test]
    fn outputs_data_and_batch_size_are_checked_before_training() {
        let dir = std::env::temp_dir().join(format!("shapetorch-mnist-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let nowhere = dir.join("missing").join("w.safetensors");
        let o = parse(&["--out", nowhere.to_str().unwrap()]).unwrap();
        let start = Instant::now();
        let failure = run(&o).unwrap_err();
        assert_eq!(failure.exit_code(), 1);
        assert!(
            failure.message().starts_with("--out "),
            "{}",
            failure.message()
        );
        assert!(start.elapsed().as_secs() < 5, "found before training");
        let o = parse(&["--plot", dir.to_str().unwrap()]).unwrap(); // a directory
        assert!(run(&o).unwrap_err().message().starts_with("--plot "));

        // 2 x 2 images in IDX files
        let idx = |magic: u32, sizes: &[u32], data: &[u8]| {
            let mut bytes: Vec<u8> = magic.to_be_bytes().to_vec();
            sizes.iter().for_each(|s| bytes.extend(s.to_be_bytes()));
            bytes.extend(data);
            bytes
        };
        for split in ["train", "t10k"] {
            let images = idx(0x803, &[3, 2, 2], &[0; 12]);
            std::fs::write(dir.join(format!("{split}-images-idx3-ubyte")), images).unwrap();
            let labels = idx(0x801, &[3], &[1, 2, 3]);
            std::fs::write(dir.join(format!("{split}-labels-idx1-ubyte")), labels).unwrap();
        }
        let out = dir.join("w.safetensors");
        let (data, out) = (dir.to_str().unwrap(), out.to_str().unwrap());
        let plot = dir.join("p.png");
        let plot = plot.to_str().unwrap();
        let o = parse(&["--data", data, "--out", out, "--plot", plot]).unwrap();
        let failure = run(&o).unwrap_err();
        assert_eq!(failure.exit_code(), 1);
        assert_eq!(
            failure.message(),
            format!("{data}: the images are 2 x 2, the model takes 28 x 28")
        );
        // the real data with a batch larger than the training set
        let o = parse(&["--batch-size", "60001", "--out", out, "--plot", plot]).unwrap();
        let failure = run(&o).unwrap_err();
        assert_eq!(failure.exit_code(), 2);
        assert_eq!(
            failure.message(),
            "--batch-size 60001: the training set has 60000 digits"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

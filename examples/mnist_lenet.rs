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
//! Flags: `--model lenet|lenet5|minitorch` (lenet), `--epochs N` (5), `--batch-size N` (64),
//! `--optimizer adam|sgd` (adam), `--lr X` (Adam 0.001, SGD 0.01 with momentum 0.9),
//! `--threads N` (all cores), `--data DIR` (the four MNIST files, gzip'd or raw; default the
//! repository's `data/mnist`), `--seed N` (0), `--out FILE` (the weights, safetensors; default
//! `target/mnist-<model>.safetensors`), `--plot FILE` (training curves, PNG; default
//! `target/mnist-<model>.png`), `--limit N` (train on the first N batches of each epoch and
//! test on 1,000 digits: a smoke run).

#[path = "common/mnist_models.rs"]
mod mnist_models;
#[path = "common/plot.rs"]
mod plot;

use std::path::PathBuf;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use mnist_models::{LeNet, LeNet5, MinitorchNet, MnistModel};
use shapetorch::data::mnist::Mnist;
use shapetorch::data::Batches;
use shapetorch::prelude::*;

/// Command-line options.
struct Options {
    model: String,
    epochs: usize,
    batch_size: usize,
    optimizer: String,
    lr: Option<f32>,
    data: PathBuf,
    seed: u64,
    out: Option<PathBuf>,
    plot: Option<PathBuf>,
    limit: Option<usize>,
}

fn parse_options() -> Result<Options, String> {
    let mut o = Options {
        model: "lenet".into(),
        epochs: 5,
        batch_size: 64,
        optimizer: "adam".into(),
        lr: None,
        data: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist")),
        seed: 0,
        out: None,
        plot: None,
        limit: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--model" => o.model = value,
            "--epochs" => o.epochs = value.parse().map_err(|e| bad(&e))?,
            "--batch-size" => o.batch_size = value.parse().map_err(|e| bad(&e))?,
            "--optimizer" => o.optimizer = value,
            "--lr" => o.lr = Some(value.parse().map_err(|e| bad(&e))?),
            "--data" => o.data = value.into(),
            "--seed" => o.seed = value.parse().map_err(|e| bad(&e))?,
            "--out" => o.out = Some(value.into()),
            "--plot" => o.plot = Some(value.into()),
            "--limit" => o.limit = Some(value.parse().map_err(|e| bad(&e))?),
            "--threads" => {
                let n: usize = value.parse().map_err(|e| bad(&e))?;
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build_global()
                    .map_err(|e| bad(&e))?;
            }
            _ => return Err(format!("unknown flag {flag} (see the example's docs)")),
        }
    }
    if !["lenet", "lenet5", "minitorch"].contains(&o.model.as_str()) {
        return Err(format!("--model {}: lenet, lenet5 or minitorch", o.model));
    }
    if !["adam", "sgd"].contains(&o.optimizer.as_str()) {
        return Err(format!("--optimizer {}: adam or sgd", o.optimizer));
    }
    if o.batch_size == 0 {
        return Err("--batch-size must be at least 1".into());
    }
    Ok(o)
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

fn train<M: MnistModel>(o: &Options, train_set: &Mnist, test_set: &Mnist) -> f64 {
    let mut model = M::new(o.seed);
    println!(
        "model {} ({} parameters), {} epochs, batch {}, {} (lr {}), seed {}, {} threads",
        M::NAME,
        model.parameter_count(),
        o.epochs,
        o.batch_size,
        o.optimizer,
        o.lr.unwrap_or(if o.optimizer == "adam" { 1e-3 } else { 1e-2 }),
        o.seed,
        rayon::current_num_threads()
    );
    let tape = Tape::new();
    model.trace(&tape);
    let mut optim = match o.optimizer.as_str() {
        "adam" => Optim::Adam(Adam::new(o.lr.unwrap_or(1e-3))),
        _ => Optim::Sgd(Sgd::new(o.lr.unwrap_or(1e-2)).momentum(0.9)),
    };
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
        let batches = Batches::shuffled(train_set.len(), o.batch_size, o.seed + epoch as u64);
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
    let target = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target"));
    // (absent when CARGO_TARGET_DIR points elsewhere)
    if let Err(e) = std::fs::create_dir_all(&target) {
        eprintln!("could not create {}: {e}", target.display());
    }
    let out = o
        .out
        .clone()
        .unwrap_or_else(|| target.join(format!("mnist-{}.safetensors", M::NAME)));
    match model.save(&out) {
        Ok(()) => println!("weights: {}", out.display()),
        Err(e) => eprintln!("could not save the weights: {e}"),
    }
    let png = o
        .plot
        .clone()
        .unwrap_or_else(|| target.join(format!("mnist-{}.png", M::NAME)));
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
    match plot::save_png(&png, &panels) {
        Ok(()) => println!("plot: {}", png.display()),
        Err(e) => eprintln!("could not write the plot {}: {e}", png.display()),
    }
    last_accuracy
}

fn main() {
    let o = parse_options().unwrap_or_else(|e| {
        eprintln!("mnist_lenet: {e}");
        std::process::exit(2);
    });
    let load = Instant::now();
    let (train_set, test_set) = Mnist::load_dir(&o.data).unwrap_or_else(|e| {
        eprintln!("mnist_lenet: {e}");
        std::process::exit(1);
    });
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
    rayon::scope(|_| match o.model.as_str() {
        "lenet" => train::<LeNet>(&o, &train_set, &test_set),
        "lenet5" => train::<LeNet5>(&o, &train_set, &test_set),
        _ => train::<MinitorchNet>(&o, &train_set, &test_set),
    });
}

/// Smoke tests, run by `cargo test` (the example is built with the test harness too).
#[cfg(test)]
mod tests {
    use super::*;

    fn smoke_options(model: &str, dir: &std::path::Path) -> Options {
        Options {
            model: model.into(),
            epochs: 1,
            batch_size: 32,
            optimizer: "adam".into(),
            lr: None,
            data: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist")),
            seed: 1,
            out: Some(dir.join(format!("{model}.safetensors"))),
            plot: Some(dir.join(format!("{model}.png"))),
            limit: Some(60),
        }
    }

    #[test]
    fn a_short_run_of_each_model_beats_chance_by_far_and_writes_its_files() {
        let dir = std::env::temp_dir().join(format!("shapetorch-mnist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (train_set, test_set) = Mnist::load_dir(smoke_options("", &dir).data).unwrap();
        // 60 batches of 32 digits, tested on 1,000: chance is 10 %
        let lenet5 = train::<LeNet5>(&smoke_options("lenet5", &dir), &train_set, &test_set);
        assert!(lenet5 > 70.0, "LeNet-5 after 60 batches: {lenet5} %");
        let minitorch =
            train::<MinitorchNet>(&smoke_options("minitorch", &dir), &train_set, &test_set);
        assert!(
            minitorch > 40.0,
            "MiniTorch's network after 60 batches: {minitorch} %"
        );
        let lenet = train::<LeNet>(&smoke_options("lenet", &dir), &train_set, &test_set);
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
}

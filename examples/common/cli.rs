//! The examples' command lines, one pattern for all: the flags are a struct with `clap`'s
//! derive (each flag's doc comment is its `--help` line, with its range; `default_value_t`
//! shows the default), values are checked as they are parsed (the parsers below), checks that
//! need the data come after loading it, and every failure ends the process with a message and
//! the exit code that says whose fault it was:
//!
//! - `0`: done, or `--help` / `-h` printed;
//! - `2`: a usage error: an unknown flag, a value out of its range, a batch larger than the
//!   data (clap exits 2 on its own errors; [`Failure::Usage`] for the checks after parsing);
//! - `1`: a runtime error: a file that cannot be read or written, a bad data file
//!   ([`Failure::Runtime`]).
//!
//! To give a new example a command line: copy a `struct Cli` from an example, `let cli =
//! Cli::parse();`, move the work into `fn run(cli: &Cli) -> Result<(), Failure>` and end
//! `main` with [`exit_on`]. Output paths are checked with [`check_writable`] before the work
//! that produces them, so a typo is not found after an hour of training.
#![allow(dead_code)] // each example uses a part of this file

use std::fmt::Display;
use std::path::Path;

/// Why an example stopped.
#[derive(Debug)]
pub enum Failure {
    /// The command line asks for something that cannot be done (exit code 2).
    Usage(String),
    /// Something went wrong while doing it: a file, the data (exit code 1).
    Runtime(String),
}

impl Failure {
    /// The process's exit code: 2 for a usage error, 1 for a runtime error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Runtime(_) => 1,
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        match self {
            Failure::Usage(m) | Failure::Runtime(m) => m,
        }
    }
}

impl From<shapetorch::Error> for Failure {
    /// The library's errors come from files and data: runtime errors.
    fn from(e: shapetorch::Error) -> Self {
        Failure::Runtime(e.to_string())
    }
}

/// A usage error (exit code 2), for checks that come after parsing.
pub fn usage(message: impl Display) -> Failure {
    Failure::Usage(message.to_string())
}

/// A runtime error (exit code 1).
pub fn runtime(message: impl Display) -> Failure {
    Failure::Runtime(message.to_string())
}

/// Ends the process as `result` says: 0 on success, else `example: message` on standard error
/// and [`Failure::exit_code`] (with a pointer to `--help` for a usage error).
pub fn exit_on(example: &str, result: Result<(), Failure>) {
    if let Err(failure) = result {
        eprintln!("{example}: {}", failure.message());
        if let Failure::Usage(_) = failure {
            eprintln!("(see {example} --help)");
        }
        std::process::exit(failure.exit_code());
    }
}

/// Parses a learning rate: a finite number above 0 (`nan`, `inf`, 0 and negative rates are
/// refused: they trained to NaN or not at all, and the examples exited 0).
pub fn learning_rate(text: &str) -> Result<f32, String> {
    let lr: f32 = text.parse().map_err(|e| format!("{e}"))?;
    if lr.is_finite() && lr > 0.0 {
        Ok(lr)
    } else {
        Err(format!("{lr} is not a finite number above 0"))
    }
}

/// The most threads `--threads` takes: more than any machine these examples run on has cores
/// (each thread has a stack and a GEMM scratch slab).
pub const MAX_THREADS: u64 = 1024;

/// Parses `--threads`: `1..=MAX_THREADS`.
pub fn threads(text: &str) -> Result<usize, String> {
    in_range(text, 1, MAX_THREADS)
}

/// Parses a count that must be at least 1 (epochs, steps, a batch size, a limit).
pub fn at_least_one(text: &str) -> Result<usize, String> {
    in_range(text, 1, usize::MAX as u64)
}

/// Parses an integer in `lo..=hi`, saying the range when it is not.
pub fn in_range(text: &str, lo: u64, hi: u64) -> Result<usize, String> {
    let n: u64 = text.parse().map_err(|e| format!("{e}"))?;
    if (lo..=hi).contains(&n) {
        usize::try_from(n).map_err(|e| e.to_string())
    } else if hi == usize::MAX as u64 {
        Err(format!("{n} is below {lo}"))
    } else {
        Err(format!("{n} is not in {lo}..={hi}"))
    }
}

/// The most seeds one `--seeds` takes: a run is seconds to minutes per seed, so more is a typo
/// (`0-18446744073709551615` asked for 2^64 and overflowed the list's capacity).
pub const MAX_SEEDS: u64 = 10_000;

/// Parses seeds as a list (`0,1,2`), a range (`0-39`, inclusive) or both (`0-9,20`): at least
/// one, at most [`MAX_SEEDS`] in all, each range in order.
pub fn seeds(text: &str) -> Result<Vec<u64>, String> {
    let mut seeds = Vec::new();
    for part in text.split(',').map(str::trim) {
        let number = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|e| format!("`{s}` is not a seed: {e}"))
        };
        let (first, last) = match part.split_once('-') {
            Some((first, last)) => (number(first)?, number(last)?),
            None => (number(part)?, number(part)?),
        };
        if last < first {
            return Err(format!("the range {first}-{last} is empty"));
        }
        // `last - first + 1` seeds: compared without the + 1, which overflows for 0-(2^64-1)
        let span = last - first;
        if span >= MAX_SEEDS || seeds.len() as u64 + span >= MAX_SEEDS {
            return Err(format!(
                "more than {MAX_SEEDS} seeds (`{part}` alone has {})",
                u128::from(span) + 1
            ));
        }
        seeds.extend(first..=last);
    }
    Ok(seeds)
}

/// Whether `path` can be written, found out before the work that writes it: opens it for
/// appending (which creates it when absent and leaves an existing file's bytes alone) and
/// removes it again if it was not there. A runtime error naming the flag and the path when
/// not (a missing directory, no permission, a directory in its place).
pub fn check_writable(flag: &str, path: &Path) -> Result<(), Failure> {
    let existed = path.exists();
    let opened = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path);
    match opened {
        Ok(_) => {
            if !existed {
                let _ = std::fs::remove_file(path);
            }
            Ok(())
        }
        Err(e) => Err(runtime(format!(
            "{flag} {}: cannot write there: {e}",
            path.display()
        ))),
    }
}

/// Runs rayon's global pool with `threads` threads (all cores when `None`).
pub fn use_threads(threads: Option<usize>) -> Result<(), Failure> {
    if let Some(n) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| runtime(format!("--threads {n}: {e}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_outside_their_range_are_refused_with_the_value() {
        assert_eq!(learning_rate("0.01"), Ok(0.01));
        for bad in ["nan", "inf", "-1", "0", "-0"] {
            let err = learning_rate(bad).unwrap_err();
            assert!(err.contains("not a finite number above 0"), "{bad}: {err}");
        }
        assert!(learning_rate("fast").is_err());
        assert_eq!(threads("2"), Ok(2));
        assert_eq!(threads("0").unwrap_err(), "0 is not in 1..=1024");
        assert_eq!(threads("5000").unwrap_err(), "5000 is not in 1..=1024");
        assert_eq!(at_least_one("0").unwrap_err(), "0 is below 1");
        assert!(at_least_one("-3").is_err());
    }

    #[test]
    fn seeds_are_lists_ranges_or_both_and_bounded() {
        assert_eq!(seeds("0,1,2").unwrap(), vec![0, 1, 2]);
        assert_eq!(seeds("3-6").unwrap(), vec![3, 4, 5, 6]);
        assert_eq!(seeds("0-1, 9").unwrap(), vec![0, 1, 9]);
        assert!(seeds("1,x").unwrap_err().contains("`x` is not a seed"));
        assert!(seeds("2-").is_err());
        assert_eq!(seeds("5-4").unwrap_err(), "the range 5-4 is empty");
        // the case: 2^64 seeds overflowed the list's capacity
        assert_eq!(
            seeds("0-18446744073709551615").unwrap_err(),
            "more than 10000 seeds (`0-18446744073709551615` alone has 18446744073709551616)"
        );
        assert!(seeds("0-9999").is_ok());
        assert!(seeds("0-9999,10000").is_err());
    }

    #[test]
    fn output_paths_are_checked_without_leaving_files_behind() {
        let dir = std::env::temp_dir().join(format!("shapetorch-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fresh = dir.join("fresh.bin");
        check_writable("--out", &fresh).unwrap();
        assert!(!fresh.exists(), "the check removes what it created");
        std::fs::write(&fresh, b"kept").unwrap();
        check_writable("--out", &fresh).unwrap();
        assert_eq!(std::fs::read(&fresh).unwrap(), b"kept");
        let missing = dir.join("no-such-dir").join("x.png");
        let err = check_writable("--plot", &missing).unwrap_err();
        assert_eq!(err.exit_code(), 1);
        assert!(err.message().starts_with("--plot "), "{}", err.message());
        let err = check_writable("--out", &dir).unwrap_err();
        assert!(
            err.message().contains("cannot write there"),
            "{}",
            err.message()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

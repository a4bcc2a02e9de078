//! Text for sentence models: the MR tokenizer, a vocabulary of word ids, GloVe vectors, the MR
//! sentence file, and padding sentences to a fixed, type-level length.
//!
//! ```
//! use shapetorch::text::{tokenize, Vocab};
//! let tokens = tokenize("It doesn't feel like the kids' movie.");
//! assert_eq!(tokens, ["it", "does", "n't", "feel", "like", "the", "kids", "'", "movie", "."]);
//! let vocab = Vocab::build([tokens.as_slice()], 100, 1);
//! assert_eq!(vocab.id("movie"), vocab.id("movie"));
//! assert_eq!(vocab.id("zebra"), Vocab::UNKNOWN);
//! ```

mod glove;
mod mr;
mod tokenizer;
mod vocab;

pub use glove::Glove;
pub use mr::{parse_mr, read_mr, MrSentence};
pub use tokenizer::tokenize;
pub use vocab::{pad_batch, Vocab};

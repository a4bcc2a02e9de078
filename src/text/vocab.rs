//! A vocabulary: word ↔ id, with ids for padding and unknown words, and padding of id
//! sequences to a fixed length given by the type.

use std::collections::HashMap;

use crate::error::Result;
use crate::shape::Dim;
use crate::tensor::IndexTensor;

/// Words and their ids. Id [`PAD`](Self::PAD) (0) pads short sentences, id
/// [`UNKNOWN`](Self::UNKNOWN) (1) stands for every word not in the vocabulary; the words
/// follow from 2 on, most frequent first.
#[derive(Clone, Debug)]
pub struct Vocab {
    words: Vec<String>,
    ids: HashMap<String, usize>,
}

impl Vocab {
    /// The padding id.
    pub const PAD: usize = 0;
    /// The id of words outside the vocabulary.
    pub const UNKNOWN: usize = 1;

    /// The vocabulary of `sentences` (token lists): every word seen at least `min_count` times,
    /// most frequent first (ties in order of first appearance), at most `max_size` ids in all
    /// (padding and unknown included), so the ids fit an embedding table of `max_size` rows.
    pub fn build<'a, S: AsRef<[String]> + 'a>(
        sentences: impl IntoIterator<Item = S>,
        max_size: usize,
        min_count: usize,
    ) -> Self {
        let mut counts: HashMap<&str, (usize, usize)> = HashMap::new();
        let sentences: Vec<S> = sentences.into_iter().collect();
        let mut order = 0;
        for sentence in &sentences {
            for word in sentence.as_ref() {
                let entry = counts.entry(word.as_str()).or_insert_with(|| {
                    order += 1;
                    (0, order)
                });
                entry.0 += 1;
            }
        }
        let mut ranked: Vec<(&str, (usize, usize))> = counts
            .into_iter()
            .filter(|(_, (count, _))| *count >= min_count.max(1))
            .collect();
        ranked.sort_by_key(|&(_, (count, first))| (std::cmp::Reverse(count), first));
        let mut vocab = Vocab {
            words: vec!["<pad>".into(), "<unk>".into()],
            ids: HashMap::new(),
        };
        for (word, _) in ranked.into_iter().take(max_size.saturating_sub(2)) {
            vocab.push(word);
        }
        vocab
    }

    fn push(&mut self, word: &str) {
        self.ids.insert(word.to_string(), self.words.len());
        self.words.push(word.to_string());
    }

    /// The id of `word`, or [`UNKNOWN`](Self::UNKNOWN).
    pub fn id(&self, word: &str) -> usize {
        self.ids.get(word).copied().unwrap_or(Self::UNKNOWN)
    }

    /// The word of `id` (`<pad>` and `<unk>` for the two special ids), or `None`.
    pub fn word(&self, id: usize) -> Option<&str> {
        self.words.get(id).map(String::as_str)
    }

    /// The ids of a token list.
    pub fn encode(&self, tokens: &[String]) -> Vec<usize> {
        tokens.iter().map(|t| self.id(t)).collect()
    }

    /// The number of ids (padding and unknown included).
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether the vocabulary holds only the two special ids.
    pub fn is_empty(&self) -> bool {
        self.words.len() <= 2
    }

    /// The words, by id.
    pub fn words(&self) -> &[String] {
        &self.words
    }
}

/// A batch of id sequences padded (with [`Vocab::PAD`]) or cut to the type-level length `L`:
/// `[batch, L]` ids below `V`, the embedding table's size. An id `>= V` is an error naming it
/// and its position (build the vocabulary with `max_size = V`).
///
/// ```
/// use shapetorch::prelude::*;
/// use shapetorch::text::pad_batch;
/// let batch: IndexTensor<(usize, Dim<4>), 10> = pad_batch(&[vec![5, 6], vec![7, 8, 9, 3, 2]]).unwrap();
/// assert_eq!(batch.to_vec(), vec![5, 6, 0, 0, 7, 8, 9, 3]);
/// ```
pub fn pad_batch<const L: usize, const V: usize>(
    sentences: &[Vec<usize>],
) -> Result<IndexTensor<(usize, Dim<L>), V>> {
    let mut ids = Vec::with_capacity(sentences.len() * L);
    for sentence in sentences {
        let kept = &sentence[..sentence.len().min(L)];
        ids.extend_from_slice(kept);
        ids.extend(std::iter::repeat_n(Vocab::PAD, L - kept.len()));
    }
    IndexTensor::from_vec_shaped((sentences.len(), Dim), ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tokenize;

    #[test]
    fn ids_follow_frequency_and_the_size_cap_sends_rare_words_to_unknown() {
        let sentences: Vec<Vec<String>> = ["a b b c c c", "c b d"]
            .iter()
            .map(|s| tokenize(s))
            .collect();
        let vocab = Vocab::build(&sentences, 5, 1);
        // c: 4, b: 3, then a and d (1 each; a first seen): only 3 word ids fit
        assert_eq!(vocab.len(), 5);
        assert_eq!(vocab.id("c"), 2);
        assert_eq!(vocab.id("b"), 3);
        assert_eq!(vocab.id("a"), 4);
        assert_eq!(vocab.id("d"), Vocab::UNKNOWN);
        assert_eq!(vocab.word(2), Some("c"));
        assert_eq!(vocab.encode(&tokenize("c zebra")), vec![2, 1]);
        let frequent = Vocab::build(&sentences, 100, 2);
        assert_eq!(frequent.words(), ["<pad>", "<unk>", "c", "b"]);
    }

    #[test]
    fn padding_checks_the_bound() {
        let err = pad_batch::<3, 5>(&[vec![1, 2], vec![4, 5]]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "from_vec: index 5 at [1, 1] is out of range: the values must lie in 0..5"
        );
        let ok = pad_batch::<3, 6>(&[vec![]]).unwrap();
        assert_eq!(ok.to_vec(), vec![0, 0, 0]);
    }
}

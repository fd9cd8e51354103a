//! Near-duplicate detection: the same story from two feeds, a repost with a word changed, a
//! headline later republished with its lead paragraph.
//!
//! A text's fingerprint is the set of its folded word pairs (shingles), hashed with FNV-1a (a
//! stable hash: fingerprints can be stored and compared across versions). Two texts are near
//! duplicates when their sets overlap by Jaccard similarity ≥ [`JACCARD`], or when nearly all
//! of the shorter one is in the longer (containment ≥ [`CONTAINMENT`]) — and when they tell of
//! the same things: the same securities, and every number of the shorter found in the longer.
//! So `VN-Index tăng 5 điểm` and `VN-Index tăng 12 điểm` are different news, and so are two
//! companies' results written from one template.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use crate::fold;

/// Jaccard similarity of shingle sets from which two texts are near duplicates.
pub const JACCARD: f64 = 0.5;
/// Share of the shorter text's shingles found in the longer from which they are near duplicates.
pub const CONTAINMENT: f64 = 0.8;
/// Fewest shingles the shorter text needs for containment to count (a three-word post is not
/// a copy of every article that contains its words).
const CONTAINMENT_MIN: usize = 5;

/// FNV-1a, 64 bits.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The shingles of `text`: hashes of its folded word pairs (its one word if it has one).
pub fn shingles(text: &str) -> HashSet<u64> {
    let words: Vec<String> = fold::tokens(&fold::fold(text))
        .into_iter()
        .filter(|w| w != "," && w != ".")
        .collect();
    if words.len() == 1 {
        return std::iter::once(fnv1a(words[0].as_bytes())).collect();
    }
    words
        .windows(2)
        .map(|w| fnv1a(format!("{} {}", w[0], w[1]).as_bytes()))
        .collect()
}

/// A hash of the folded text's words: equal for texts that differ only in case, accents,
/// punctuation or spacing.
pub fn exact_key(text: &str) -> u64 {
    let words: Vec<String> = fold::tokens(&fold::fold(text))
        .into_iter()
        .filter(|w| w != "," && w != ".")
        .collect();
    fnv1a(words.join(" ").as_bytes())
}

/// How alike two shingle sets are: (Jaccard, containment of the smaller in the larger).
pub fn similarity(a: &HashSet<u64>, b: &HashSet<u64>) -> (f64, f64) {
    if a.is_empty() || b.is_empty() {
        return (0.0, 0.0);
    }
    let common = a.intersection(b).count() as f64;
    let union = (a.len() + b.len()) as f64 - common;
    (common / union, common / a.len().min(b.len()) as f64)
}

/// Whether two shingle sets are of near-duplicate texts.
pub fn near_duplicates(a: &HashSet<u64>, b: &HashSet<u64>) -> bool {
    let (jaccard, containment) = similarity(a, b);
    jaccard >= JACCARD || (containment >= CONTAINMENT && a.len().min(b.len()) >= CONTAINMENT_MIN)
}

/// What a text is compared by: its shingles, its numbers and the securities it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    shingles: HashSet<u64>,
    numbers: BTreeSet<String>,
    subjects: Vec<String>,
}

impl Signature {
    /// The signature of `text`, about `subjects` (its tickers, in any order).
    pub fn new(text: &str, mut subjects: Vec<String>) -> Signature {
        subjects.sort();
        subjects.dedup();
        Signature {
            shingles: shingles(text),
            numbers: fold::tokens(text)
                .into_iter()
                .filter(|w| w.starts_with(|c: char| c.is_ascii_digit()))
                .collect(),
            subjects,
        }
    }

    /// Whether the two texts are near duplicates telling of the same things.
    pub fn duplicates(&self, other: &Signature) -> bool {
        let (short, long) = if self.numbers.len() <= other.numbers.len() {
            (self, other)
        } else {
            (other, self)
        };
        self.subjects == other.subjects
            && short.numbers.is_subset(&long.numbers)
            && near_duplicates(&self.shingles, &other.shingles)
    }
}

/// The most recent texts seen, to find what a new one duplicates.
#[derive(Debug)]
pub struct Recent<K> {
    capacity: usize,
    order: VecDeque<K>,
    sets: HashMap<K, Signature>,
    /// shingle → the keys holding it (only candidates sharing one are compared)
    postings: HashMap<u64, Vec<K>>,
}

impl<K: Clone + Eq + std::hash::Hash> Recent<K> {
    /// Remembers the last `capacity` texts.
    pub fn new(capacity: usize) -> Self {
        Recent {
            capacity: capacity.max(1),
            order: VecDeque::new(),
            sets: HashMap::new(),
            postings: HashMap::new(),
        }
    }

    /// How many texts are remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The remembered text that `signature` duplicates, the most similar one.
    pub fn find(&self, signature: &Signature) -> Option<&K> {
        let mut candidates: HashSet<&K> = HashSet::new();
        for s in &signature.shingles {
            if let Some(keys) = self.postings.get(s) {
                candidates.extend(keys);
            }
        }
        candidates
            .into_iter()
            .filter_map(|k| {
                let other = self.sets.get(k)?;
                signature
                    .duplicates(other)
                    .then(|| (similarity(&signature.shingles, &other.shingles).0, k))
            })
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, k)| k)
    }

    /// Remembers a text, forgetting the oldest beyond capacity.
    pub fn insert(&mut self, key: K, signature: Signature) {
        if self.sets.contains_key(&key) {
            return;
        }
        for s in &signature.shingles {
            self.postings.entry(*s).or_default().push(key.clone());
        }
        self.sets.insert(key.clone(), signature);
        self.order.push_back(key);
        while self.order.len() > self.capacity {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(signature) = self.sets.remove(&old) {
                for s in signature.shingles {
                    if let Some(keys) = self.postings.get_mut(&s) {
                        keys.retain(|k| *k != old);
                        if keys.is_empty() {
                            self.postings.remove(&s);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dup(a: &str, b: &str) -> bool {
        near_duplicates(&shingles(a), &shingles(b))
    }

    #[test]
    fn the_same_story_retyped_is_a_duplicate() {
        assert!(dup(
            "Hòa Phát báo lãi quý III tăng 40%",
            "HOÀ PHÁT báo lãi quý III tăng 40%!"
        ));
        assert!(dup(
            "Hòa Phát báo lãi quý III tăng 40%",
            "Hoa Phat bao lai quy III tang 40%"
        ));
        assert_eq!(
            exact_key("Hòa Phát báo lãi, quý III"),
            exact_key("hoa phat  bao lai quy III")
        );
    }

    #[test]
    fn a_headline_republished_with_its_lead_is_a_duplicate() {
        assert!(dup(
            "Vinamilk profit rises 12% on strong export sales",
            "Vinamilk profit rises 12% on strong export sales. The dairy maker said on Monday"
        ));
    }

    #[test]
    fn different_numbers_or_subjects_are_different_news() {
        assert!(!dup("VN-Index tăng 5 điểm", "VN-Index tăng 12 điểm"));
        assert!(!dup(
            "Hòa Phát báo lãi quý III tăng 40%",
            "Vinamilk báo lãi quý III giảm 10%"
        ));
        assert!(!dup(
            "lãi",
            "Vinamilk báo lãi quý III giảm 10% so với cùng kỳ năm trước"
        ));
    }

    fn sig(text: &str, subjects: &[&str]) -> Signature {
        Signature::new(text, subjects.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn one_template_about_two_companies_is_two_stories() {
        let a = sig(
            "BVB tipped for ETF inclusion, with 2.8 million shares to buy. Viet Capital Bank (BVB) is likely to be added to foreign ETFs' portfolios at the next review.",
            &["BVB"],
        );
        let b = sig(
            "KYT tipped for ETF inclusion, with 2.8 million shares to buy. KYT Power (KYT) is likely to be added to foreign ETFs' portfolios at the next review.",
            &["KYT"],
        );
        assert!(!a.duplicates(&b), "different securities");
        let c = sig(
            "BVB tipped for ETF inclusion, with 2.3 million shares to buy. Viet Capital Bank (BVB) is likely to be added to foreign ETFs' portfolios at the next review.",
            &["BVB"],
        );
        assert!(!a.duplicates(&c), "different numbers");
        let retold = sig(
            "BVB tipped for ETF inclusion, with 2.8 million shares to buy",
            &["BVB"],
        );
        assert!(a.duplicates(&retold), "the headline of the same story");
    }

    #[test]
    fn recent_finds_the_most_similar_and_forgets_the_oldest() {
        let mut recent = Recent::new(2);
        recent.insert(1, sig("Hòa Phát báo lãi quý III tăng 40%", &["HPG"]));
        recent.insert(2, sig("Vinamilk báo lãi quý III giảm 10%", &["VNM"]));
        let longer = sig("Hòa Phát báo lãi quý III tăng 40% so với cùng kỳ", &["HPG"]);
        assert_eq!(recent.find(&longer), Some(&1));
        recent.insert(3, sig("FPT trúng thầu dự án 100 triệu USD", &["FPT"]));
        assert_eq!(recent.len(), 2);
        assert_eq!(
            recent.find(&sig("Hòa Phát báo lãi quý III tăng 40%", &["HPG"])),
            None
        );
        assert_eq!(
            recent.find(&sig("FPT trúng thầu dự án 100 triệu USD", &["FPT"])),
            Some(&3)
        );
    }
}

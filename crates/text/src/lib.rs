//! Text intelligence for QTS: what the news collectors, the emotion service and the memory LLM
//! service share.
//!
//! - [`feed`]: RSS, Atom and JSON feeds into plain items;
//! - [`lang`]: Vietnamese, English or other;
//! - [`fold`]: normalising, folding away Vietnamese marks, word tokens;
//! - [`sentiment`]: finance-aware lexicon sentiment with Vietnamese word segmentation, measured
//!   on a hand-labelled evaluation set (`data/sentiment`);
//! - [`dedup`]: exact and near-duplicate detection;
//! - [`link`]: the securities a text mentions, by ticker or company name.
//!
//! Pure functions and plain data: no I/O, no async, so the services, `qts` and the tests use it
//! the same way.

pub mod dedup;
pub mod feed;
pub mod fold;
pub mod lang;
pub mod link;
pub mod sentiment;

pub use lang::Lang;
pub use link::{Linker, Security};
pub use sentiment::{Label, Lexicon, Score};

//! (being written)

use crate::File;

/// The generated files of this part.
pub fn files() -> Vec<File> {
    Vec::new()
}

//! Helpers of the seed tests (one per seed file): read a shipped regulation, failing with every
//! problem the checker finds.

use qyzmet_domain::regulation::{Regulation, check};

/// The regulation `text` (of the file `name`), checked; panics listing every problem.
pub fn load(name: &str, text: &str) -> Regulation {
    check(name, text).unwrap_or_else(|problems| {
        panic!(
            "{}",
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

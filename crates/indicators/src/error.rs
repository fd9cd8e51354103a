//! The one error type of the crate: what can go wrong when building or feeding an indicator.

/// Why an indicator could not be built, fed, or restored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// No registered function has this name (names are TA-Lib's, case-insensitive).
    #[error("unknown function `{0}`")]
    UnknownFunction(String),
    /// The function has no parameter of this name.
    #[error("{function}: unknown parameter `{param}`")]
    UnknownParam {
        /// Function name.
        function: &'static str,
        /// The parameter that was given.
        param: String,
    },
    /// A parameter value lies outside its valid range.
    #[error("{function}: parameter `{param}` = {value} is outside {min}..={max}")]
    ParamOutOfRange {
        /// Function name.
        function: &'static str,
        /// Parameter name.
        param: &'static str,
        /// The value given.
        value: f64,
        /// Smallest valid value.
        min: f64,
        /// Largest valid value.
        max: f64,
    },
    /// An integer parameter was given a fractional or non-finite value.
    #[error("{function}: parameter `{param}` must be an integer, got {value}")]
    ParamNotInteger {
        /// Function name.
        function: &'static str,
        /// Parameter name.
        param: &'static str,
        /// The value given.
        value: f64,
    },
    /// Two parameters that must be ordered are not (e.g. MAVP `minperiod` > `maxperiod`).
    #[error("{function}: {reason}")]
    ParamConflict {
        /// Function name.
        function: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A batch call got the wrong number of input series.
    #[error("{function}: expects {expected} input series, got {got}")]
    InputCount {
        /// Function name.
        function: &'static str,
        /// Number of inputs the function takes.
        expected: usize,
        /// Number given.
        got: usize,
    },
    /// The input series of a batch call have different lengths.
    #[error("{function}: input series have different lengths")]
    InputLength {
        /// Function name.
        function: &'static str,
    },
    /// A snapshot of one function was restored into an indicator of another.
    #[error("cannot restore a snapshot of {found} into {expected}")]
    StateMismatch {
        /// The indicator being restored.
        expected: &'static str,
        /// The function the snapshot was taken from.
        found: &'static str,
    },
}

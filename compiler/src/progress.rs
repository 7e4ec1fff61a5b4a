//! How far a compile has got, for a host that shows a progress bar.
//!
//! The unit of a compile is a byte of function bodies (functions vary in
//! size by orders of magnitude, so a count of them would crawl at the end):
//! the compiler announces how many it has to compile as soon as it knows
//! (after validating a module's sections, or all of a component's modules)
//! and reports each body compiled, from whichever worker thread compiled it.
//! Other work can use its own unit (`cmc wast` counts script directives).

/// Receives a compile's progress. Called from the compiler's worker
/// threads, so it must be cheap and thread-safe (an atomic counter, or
/// `indicatif::ProgressBar`, which is both).
pub trait Progress: Sync {
    /// `n` more units of work are to be done.
    fn add_work(&self, n: u64);
    /// `n` more units of work are done.
    fn advance(&self, n: u64);
}

/// Reports nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Progress for Silent {
    fn add_work(&self, _: u64) {}
    fn advance(&self, _: u64) {}
}

//! What a run records: the event log and the end-of-run summary.

pub mod recorder;
pub mod recovery;
pub mod sampler;
pub mod summary;
pub mod timeseries;

pub use recorder::{EventType, Record, Recorder};
pub use summary::Summary;

//! Exports of a run for other tools: `trace.perfetto.json` (Chrome trace event
//! JSON, for Perfetto and chrome://tracing).

pub mod perfetto;

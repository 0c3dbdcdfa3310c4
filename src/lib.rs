//! kubesim: a deterministic discrete-event simulator of a Kubernetes cluster.
//!
//! ```no_run
//! let scenario = kubesim::scenario::load(std::path::Path::new("scenarios/web-basic.yaml")).unwrap();
//! let mut sim = kubesim::Simulation::new(&scenario, kubesim::metrics::Recorder::discard());
//! sim.run();
//! println!("{}", sim.summary().human());
//! ```
//!
//! The map of the crate follows the cluster: [`api`] (objects and the API
//! server), [`scheduler`], [`controllers`], [`node`] (kubelet), [`scenario`]
//! (input files and the timeline), [`manifest`] (plain Kubernetes YAML),
//! [`metrics`] (event log and summary), and [`sim`] (time, queue, randomness and
//! the dispatch loop).

#![forbid(unsafe_code)]

pub mod api;
pub mod autoscaler;
pub mod compare;
pub mod controllers;
pub mod determinism;
pub mod diag;
pub mod explain;
pub mod export;
pub mod invariants;
pub mod manifest;
pub mod metrics;
pub mod net;
pub mod node;
pub mod output;
pub mod progress;
pub mod report;
pub mod scenario;
pub mod scheduler;
pub mod sim;
pub mod swarm;
pub mod sweep;
pub mod views;
pub mod workload;

pub use sim::Simulation;

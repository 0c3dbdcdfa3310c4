//! What a `traffic:` client is: where it sends, how many requests over time,
//! and what the pods behind the Service can take.
//!
//! Rates are integrated exactly over any interval (a step function, or a daily
//! cosine whose integral is a sine), so the aggregate model can count the
//! requests of an interval of any length without walking through it.

use crate::api::ObjKey;
use crate::sim::time::{SimDuration, SimTime};
use crate::workload::detmath;

/// How the request rate moves over time.
#[derive(Debug, Clone, PartialEq)]
pub enum RateCurve {
    /// Requests per second, always.
    Constant(f64),
    /// `rate` until the first step, then each step's rate from its `at`
    /// (times since the start of the run, increasing).
    Steps {
        initial: f64,
        steps: Vec<(SimDuration, f64)>,
    },
    /// A day-long cosine: `max` at `peak_at` (time of day), `min` twelve hours
    /// away. The day starts at the run's time 0.
    Daily {
        min: f64,
        max: f64,
        peak_at: SimDuration,
    },
}

const DAY_S: f64 = 86_400.0;

impl RateCurve {
    /// Expected requests sent in `[a, b)`.
    pub fn integral(&self, a: SimTime, b: SimTime) -> f64 {
        if b <= a {
            return 0.0;
        }
        let (sa, sb) = (secs(a), secs(b));
        match self {
            RateCurve::Constant(r) => r * (sb - sa),
            RateCurve::Steps { initial, steps } => {
                let mut sum = 0.0;
                let mut rate = *initial;
                let mut from = sa;
                for (at, r) in steps {
                    let t = at.as_millis() as f64 / 1000.0;
                    if t >= sb {
                        break;
                    }
                    if t > from {
                        sum += rate * (t - from);
                        from = t;
                    }
                    rate = *r;
                }
                sum + rate * (sb - from)
            }
            RateCurve::Daily { min, max, peak_at } => {
                // r(t) = min + A/2 · (1 + cos 2π(t − p)/T)
                let amp = max - min;
                let p = peak_at.as_millis() as f64 / 1000.0;
                let sin = |t: f64| detmath::cos_turns((t - p) / DAY_S - 0.25);
                (min + amp / 2.0) * (sb - sa)
                    + amp / 2.0 * DAY_S / std::f64::consts::TAU * (sin(sb) - sin(sa))
            }
        }
    }

    /// The rate at `t` (for the scenario's description and checks).
    pub fn at(&self, t: SimTime) -> f64 {
        match self {
            RateCurve::Constant(r) => *r,
            RateCurve::Steps { initial, steps } => steps
                .iter()
                .take_while(|(at, _)| SimTime::ZERO + *at <= t)
                .last()
                .map_or(*initial, |(_, r)| *r),
            RateCurve::Daily { min, max, peak_at } => {
                let p = peak_at.as_millis() as f64 / 1000.0;
                min + (max - min) / 2.0 * (1.0 + detmath::cos_turns((secs(t) - p) / DAY_S))
            }
        }
    }

    /// The highest rate the curve reaches.
    pub fn peak(&self) -> f64 {
        match self {
            RateCurve::Constant(r) => *r,
            RateCurve::Steps { initial, steps } => {
                steps.iter().map(|s| s.1).fold(*initial, f64::max)
            }
            RateCurve::Daily { max, .. } => *max,
        }
    }
}

fn secs(t: SimTime) -> f64 {
    t.as_millis() as f64 / 1000.0
}

/// How requests arrive within an interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Arrivals {
    /// Exactly the expected number (fractions carried to the next interval).
    #[default]
    Uniform,
    /// A Poisson process: counts drawn from the traffic stream.
    Poisson,
}

/// Where the client sits, which decides the path a request takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Origin {
    /// Pods inside the cluster, calling the ClusterIP; spread over the nodes
    /// that are up, each routing by its own kube-proxy's view.
    #[default]
    Inside,
    /// Outside, calling `NODE_IP:nodePort` of every node in turn (a client
    /// holding the list of node addresses; a dead node does not answer).
    NodePort,
    /// Outside, through the cloud load balancer, which spreads connections
    /// over the nodes that pass its health check.
    LoadBalancer,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Inside => "inside",
            Origin::NodePort => "nodePort",
            Origin::LoadBalancer => "loadBalancer",
        }
    }
}

/// Aggregate (default) or request by request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Model {
    #[default]
    Aggregate,
    PerRequest,
}

/// What the client calls.
#[derive(Debug, Clone, PartialEq)]
pub enum Destination {
    Service(ObjKey),
    /// An Ingress (`namespace/name`) with the request's host and path.
    Ingress {
        ingress: ObjKey,
        host: String,
        path: String,
    },
}

/// One `traffic:` client, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientSpec {
    pub name: String,
    /// The Service its requests reach: given, or for an Ingress client the
    /// Service of the rule that matches (decided at run time).
    pub service: ObjKey,
    pub destination: Destination,
    pub rate: RateCurve,
    pub arrivals: Arrivals,
    pub origin: Origin,
    /// Distinct client addresses, for `sessionAffinity: ClientIP` (default 100).
    pub sources: u32,
    /// How long a client waits for an answer that does not come.
    pub timeout: SimDuration,
    /// How long a pod takes to answer one request (the mean, when the pods
    /// have a concurrency limit).
    pub service_time: SimDuration,
    /// When the client starts sending.
    pub start: SimDuration,
    /// Requests one pod works on at once; more wait in its queue.
    pub concurrency: Option<u32>,
    /// Requests one pod lets wait; beyond, it answers 503 at once.
    pub queue_limit: u32,
    pub model: Model,
}

impl ClientSpec {
    /// A client of `service` at a constant rate, with the defaults.
    pub fn constant(name: &str, service: ObjKey, rate: f64) -> Self {
        ClientSpec {
            name: name.to_string(),
            destination: Destination::Service(service.clone()),
            service,
            rate: RateCurve::Constant(rate),
            arrivals: Arrivals::Uniform,
            origin: Origin::Inside,
            sources: 100,
            timeout: SimDuration::from_secs(1),
            service_time: SimDuration::from_millis(10),
            start: SimDuration::ZERO,
            concurrency: None,
            queue_limit: 0,
            model: Model::Aggregate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> SimTime {
        SimTime::from_millis(s * 1000)
    }

    #[test]
    fn steps_integrate_piecewise() {
        let c = RateCurve::Steps {
            initial: 10.0,
            steps: vec![
                (SimDuration::from_secs(60), 100.0),
                (SimDuration::from_secs(120), 0.0),
            ],
        };
        assert_eq!(c.integral(t(0), t(60)), 600.0);
        assert_eq!(c.integral(t(30), t(90)), 300.0 + 3000.0);
        assert_eq!(c.integral(t(100), t(1000)), 2000.0);
        assert_eq!(c.at(t(59)), 10.0);
        assert_eq!(c.at(t(60)), 100.0);
        assert_eq!(c.peak(), 100.0);
    }

    #[test]
    fn a_daily_curve_sends_its_mean_over_a_day_and_peaks_where_asked() {
        let c = RateCurve::Daily {
            min: 50.0,
            max: 150.0,
            peak_at: SimDuration::from_secs(14 * 3600),
        };
        let day = c.integral(t(0), t(86_400));
        assert!((day - 100.0 * 86_400.0).abs() < 1e-6, "{day}");
        assert!((c.at(t(14 * 3600)) - 150.0).abs() < 1e-9);
        assert!((c.at(t(2 * 3600)) - 50.0).abs() < 1e-9);
        // the integral of pieces adds up to the whole
        let parts: f64 = (0..24)
            .map(|h| c.integral(t(h * 3600), t((h + 1) * 3600)))
            .sum();
        assert!((parts - day).abs() < 1e-6);
        // the peak hour sends more than the trough hour
        assert!(
            c.integral(t(13 * 3600 + 1800), t(14 * 3600 + 1800))
                > 2.5 * c.integral(t(3600 + 1800), t(2 * 3600 + 1800))
        );
    }
}

//! A pod with a concurrency limit, as the M/M/c/K queue: Poisson arrivals at
//! rate λ, `c` requests served at once, each taking an exponential time of mean
//! `1/μ`, at most `K = c + queue` in the pod; an arrival that finds it full is
//! answered 503 at once. The steady state is exact and cheap (O(K)), so the
//! aggregate traffic model can use it for every interval in which routing and
//! load are fixed.
//!
//! Only `+ - * /` are used, so every machine computes the same figures.

/// The steady state of one pod under a given load.
#[derive(Debug, Clone, PartialEq)]
pub struct PodLoad {
    /// Probability that an arrival finds the pod full (and is rejected).
    pub blocked: f64,
    /// For an admitted arrival: (probability, mean latency in seconds,
    /// variance in s²) per number found in the pod on arrival.
    pub latency: Vec<(f64, f64, f64)>,
}

/// Quantile points (standard normal z) and the probability each stands for,
/// finer in the tail so that p99 is resolved.
const POINTS: [(f64, f64); 10] = [
    (-1.281_551_6, 0.2),
    (-0.524_400_5, 0.2),
    (0.0, 0.2),
    (0.524_400_5, 0.2),
    (1.036_433_4, 0.1),
    (1.439_531_5, 0.05),
    (1.811_910_9, 0.03),
    (2.170_090_4, 0.01),
    (2.512_144_3, 0.008),
    (3.090_232_3, 0.002),
];

/// The latency of one queue length as points of a gamma distribution with its
/// mean and variance (Wilson–Hilferty: only `+ - * /` and `sqrt`).
pub fn latency_points(mean: f64, var: f64) -> impl Iterator<Item = (f64, f64)> {
    let shape = if var > 0.0 { mean * mean / var } else { 1e12 };
    let a = 1.0 / (9.0 * shape);
    POINTS.iter().map(move |(z, w)| {
        let c = (1.0 - a + z * a.sqrt()).max(0.0);
        (mean * c * c * c, *w)
    })
}

impl PodLoad {
    /// Mean latency of an admitted request, in seconds.
    pub fn mean_latency(&self) -> f64 {
        self.latency.iter().map(|(p, l, _)| p * l).sum()
    }
}

/// The M/M/c/K steady state for arrival rate `lambda` (per second), mean
/// service time `s` (seconds), `c` servers and `queue` places to wait.
pub fn mmck(lambda: f64, s: f64, c: u32, queue: u32) -> PodLoad {
    let c = c.max(1);
    let k = c + queue;
    let mu = 1.0 / s;
    if lambda <= 0.0 {
        return PodLoad {
            blocked: 0.0,
            latency: vec![(1.0, s, s * s)],
        };
    }
    let a = lambda / mu;
    // unnormalised π_n, rescaled when they grow large
    let mut p = Vec::with_capacity(k as usize + 1);
    p.push(1.0f64);
    for n in 1..=k {
        let next = p[n as usize - 1] * a / f64::from(n.min(c));
        p.push(next);
        if next > 1e250 {
            for x in &mut p {
                *x *= 1e-250;
            }
        }
    }
    let total: f64 = p.iter().sum();
    let blocked = p[k as usize] / total;
    let admitted = 1.0 - blocked;
    // PASTA: an arrival sees the steady state; admitted ones see n < K
    let cmu = f64::from(c) * mu;
    let latency = (0..k)
        .map(|n| {
            let prob = p[n as usize] / total / admitted;
            // wait: Erlang(n − c + 1, cμ); service: Exp(μ)
            let k = f64::from((n + 1).saturating_sub(c));
            (prob, s + k / cmu, s * s + k / (cmu * cmu))
        })
        .filter(|(prob, _, _)| *prob > 0.0)
        .collect();
    PodLoad { blocked, latency }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mm1k_matches_the_textbook_formula() {
        // M/M/1/K: P_K = (1-ρ)ρ^K / (1-ρ^(K+1))
        let (rho, k) = (0.8f64, 5u32);
        let l = mmck(0.8, 1.0, 1, k - 1);
        let want = (1.0 - rho) * rho.powi(k as i32) / (1.0 - rho.powi(k as i32 + 1));
        assert!((l.blocked - want).abs() < 1e-12, "{} vs {want}", l.blocked);
    }

    #[test]
    fn erlang_b_when_nobody_may_wait() {
        // M/M/c/c: Erlang B with c = 2, a = 1: (1/2) / (1 + 1 + 1/2) = 0.2
        let l = mmck(1.0, 1.0, 2, 0);
        assert!((l.blocked - 0.2).abs() < 1e-12);
        // nobody waits: latency is the service time
        assert!((l.mean_latency() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn little_law_holds_for_the_mean_latency() {
        let (lambda, s, c, q) = (30.0, 0.1, 4u32, 20u32);
        let l = mmck(lambda, s, c, q);
        // L = Σ n π_n ; W = L / λ_eff
        let a = lambda * s;
        let mut p = vec![1.0f64];
        for n in 1..=(c + q) {
            let prev = p[n as usize - 1];
            p.push(prev * a / f64::from(n.min(c)));
        }
        let tot: f64 = p.iter().sum();
        let big_l: f64 = p.iter().enumerate().map(|(n, x)| n as f64 * x / tot).sum();
        let w = big_l / (lambda * (1.0 - l.blocked));
        assert!(
            (l.mean_latency() - w).abs() < 1e-9,
            "{} vs {w}",
            l.mean_latency()
        );
    }

    #[test]
    fn latency_points_keep_the_mean_and_reach_the_exponential_tail() {
        // an exponential of mean 1: p99 = ln 100 ≈ 4.6
        let pts: Vec<(f64, f64)> = latency_points(1.0, 1.0).collect();
        let mean: f64 = pts.iter().map(|(x, w)| x * w).sum();
        assert!((mean - 1.0).abs() < 0.05, "{mean}");
        assert!((pts.iter().map(|p| p.1).sum::<f64>() - 1.0).abs() < 1e-12);
        let top = pts.last().unwrap().0;
        assert!(top > 4.0 && top < 9.0, "{top}");
    }

    #[test]
    fn overload_rejects_the_excess_and_stays_finite_for_long_queues() {
        // twice the capacity: about half is rejected
        let l = mmck(200.0, 0.1, 10, 10_000);
        assert!((l.blocked - 0.5).abs() < 1e-3, "{}", l.blocked);
        assert!(l.mean_latency().is_finite());
        // light load: nothing rejected, latency ≈ service time
        let l = mmck(1.0, 0.1, 10, 10);
        assert!(l.blocked < 1e-12);
        assert!((l.mean_latency() - 0.1).abs() < 1e-9);
    }
}

//! Distributions of integer values (millicores, bytes, milliseconds, priorities).
//!
//! Every value is an integer in its base unit, so a draw is exact once made; only
//! the shape parameters (sigma, weights, means) are floats, and those go through
//! [`super::detmath`] so the same words give the same integer on every machine.

use super::detmath;
use crate::api::quantity::{format_bytes, format_cpu_millis, parse_cpu_millis, parse_value};
use crate::sim::time::SimDuration;
use serde::Deserialize;
use std::fmt;

/// Largest `sigma` accepted for a lognormal: e^10 ≈ 22026 already spans any sane spread.
pub const MAX_SIGMA: f64 = 10.0;

/// A value a distribution can produce: an integer in a base unit with a legal range.
pub trait Unit: Copy {
    /// Smallest legal value in base units.
    const MIN: i64;
    /// Largest legal value in base units.
    const MAX: i64;
    /// The value in base units.
    fn base(self) -> i64;
    /// Base units back to the text a user would write, for messages.
    fn show(base: i64) -> String;
}

/// CPU in millicores, written as a quantity (`250m`, `2`, `0.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Millicores(pub i64);

/// Memory in bytes, written as a quantity (`512Mi`, `1G`, `1e9`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bytes(pub i64);

impl Unit for Millicores {
    const MIN: i64 = 0;
    const MAX: i64 = i64::MAX;
    fn base(self) -> i64 {
        self.0
    }
    fn show(base: i64) -> String {
        format_cpu_millis(base)
    }
}

impl Unit for Bytes {
    const MIN: i64 = 0;
    const MAX: i64 = i64::MAX;
    fn base(self) -> i64 {
        self.0
    }
    fn show(base: i64) -> String {
        format_bytes(base)
    }
}

impl Unit for SimDuration {
    const MIN: i64 = 0;
    const MAX: i64 = i64::MAX;
    fn base(self) -> i64 {
        i64::try_from(self.as_millis()).unwrap_or(i64::MAX)
    }
    fn show(base: i64) -> String {
        exact_duration(base.max(0) as u64)
    }
}

impl Unit for i32 {
    const MIN: i64 = i32::MIN as i64;
    const MAX: i64 = i32::MAX as i64;
    fn base(self) -> i64 {
        i64::from(self)
    }
    fn show(base: i64) -> String {
        base.to_string()
    }
}

/// Milliseconds as a duration string that parses back to the same value
/// (`human` rounds, which would make "2m1s is above 2m" read as "2m is above 2m").
pub fn exact_duration(ms: u64) -> String {
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    let mut rest = ms;
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
    ] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    if rest > 0 {
        out.push_str(&format!("{rest}ms"));
    }
    out
}

/// Reads a quantity given as a YAML string or number.
struct QuantityVisitor {
    parse: fn(&str) -> Result<i64, crate::api::quantity::QuantityError>,
    what: &'static str,
}

impl serde::de::Visitor<'_> for QuantityVisitor {
    type Value = i64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.what)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<i64, E> {
        (self.parse)(v).map_err(E::custom)
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<i64, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<i64, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<i64, E> {
        // Display gives the shortest text that round-trips, e.g. 0.5 -> "0.5".
        self.visit_str(&v.to_string())
    }
}

impl<'de> Deserialize<'de> for Millicores {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(QuantityVisitor {
            parse: parse_cpu_millis,
            what: "a CPU quantity such as 250m, 1 or 1.5",
        })
        .map(Millicores)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(QuantityVisitor {
            parse: parse_value,
            what: "a memory quantity such as 128Mi, 1Gi or 500M",
        })
        .map(Bytes)
    }
}

/// One weighted alternative of a `choice`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    bound(deserialize = "T: Deserialize<'de>")
)]
pub struct Weighted<T> {
    pub value: T,
    pub weight: f64,
}

/// `lognormal: {median, sigma, min?, max?}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    bound(deserialize = "T: Deserialize<'de>")
)]
pub struct LogNormal<T> {
    pub median: T,
    pub sigma: f64,
    #[serde(default)]
    pub min: Option<T>,
    #[serde(default)]
    pub max: Option<T>,
}

/// `exponential: {mean, min?, max?}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    bound(deserialize = "T: Deserialize<'de>")
)]
pub struct Exponential<T> {
    pub mean: T,
    #[serde(default)]
    pub min: Option<T>,
    #[serde(default)]
    pub max: Option<T>,
}

/// A distribution of values of unit `T`; in YAML a map with exactly one key.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawDist<T>", bound(deserialize = "T: Deserialize<'de>"))]
pub enum Dist<T> {
    Constant(T),
    /// Inclusive bounds; every base-unit integer between them is equally likely.
    Uniform(T, T),
    Choice(Vec<Weighted<T>>),
    Lognormal(LogNormal<T>),
    Exponential(Exponential<T>),
}

/// The YAML form, so that "exactly one of" gets a message of ours rather than serde's.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    bound(deserialize = "T: Deserialize<'de>")
)]
struct RawDist<T> {
    #[serde(default)]
    constant: Option<T>,
    #[serde(default)]
    uniform: Option<[T; 2]>,
    #[serde(default)]
    choice: Option<Vec<Weighted<T>>>,
    #[serde(default)]
    lognormal: Option<LogNormal<T>>,
    #[serde(default)]
    exponential: Option<Exponential<T>>,
}

impl<T> TryFrom<RawDist<T>> for Dist<T> {
    type Error = String;
    fn try_from(r: RawDist<T>) -> Result<Self, String> {
        let mut found = Vec::new();
        let mut out = None;
        if let Some(v) = r.constant {
            found.push("constant");
            out = Some(Dist::Constant(v));
        }
        if let Some([lo, hi]) = r.uniform {
            found.push("uniform");
            out = Some(Dist::Uniform(lo, hi));
        }
        if let Some(v) = r.choice {
            found.push("choice");
            out = Some(Dist::Choice(v));
        }
        if let Some(v) = r.lognormal {
            found.push("lognormal");
            out = Some(Dist::Lognormal(v));
        }
        if let Some(v) = r.exponential {
            found.push("exponential");
            out = Some(Dist::Exponential(v));
        }
        match (found.len(), out) {
            (1, Some(d)) => Ok(d),
            (0, _) => Err(
                "expected exactly one of constant, uniform, choice, lognormal, exponential"
                    .to_string(),
            ),
            _ => Err(format!(
                "expected exactly one of constant, uniform, choice, lognormal, exponential; found {}",
                found.join(" and ")
            )),
        }
    }
}

/// `base.key`, or `key` at the top.
pub(crate) fn join(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_string()
    } else {
        format!("{base}.{key}")
    }
}

/// Error list: (path, message).
pub type Errors = Vec<(String, String)>;

fn check_range<T: Unit>(v: T, path: String, errs: &mut Errors) {
    let b = v.base();
    if b < T::MIN || b > T::MAX {
        let msg = if T::MIN == 0 && b < 0 {
            format!("expected a value of at least 0, got {}", T::show(b))
        } else {
            format!(
                "expected a value between {} and {}, got {}",
                T::show(T::MIN),
                T::show(T::MAX),
                T::show(b)
            )
        };
        errs.push((path, msg));
    }
}

/// Optional `min`/`max` clamps: each in range, and not crossed.
fn check_clamps<T: Unit>(min: Option<T>, max: Option<T>, path: &str, errs: &mut Errors) {
    if let Some(m) = min {
        check_range(m, join(path, "min"), errs);
    }
    if let Some(m) = max {
        check_range(m, join(path, "max"), errs);
    }
    if let (Some(lo), Some(hi)) = (min, max) {
        if lo.base() > hi.base() {
            errs.push((
                join(path, "min"),
                format!(
                    "min {} is above max {}",
                    T::show(lo.base()),
                    T::show(hi.base())
                ),
            ));
        }
    }
}

impl<T: Unit> Dist<T> {
    /// Checks parameters; `path` names this distribution (e.g. `generators[0].cpu`).
    pub fn validate(&self, path: &str, errs: &mut Errors) {
        match self {
            Dist::Constant(v) => check_range(*v, join(path, "constant"), errs),
            Dist::Uniform(lo, hi) => {
                let p = join(path, "uniform");
                check_range(*lo, format!("{p}[0]"), errs);
                check_range(*hi, format!("{p}[1]"), errs);
                if lo.base() > hi.base() {
                    errs.push((
                        p,
                        format!(
                            "lower bound {} is above upper bound {}",
                            T::show(lo.base()),
                            T::show(hi.base())
                        ),
                    ));
                }
            }
            Dist::Choice(alts) => {
                let p = join(path, "choice");
                if alts.is_empty() {
                    errs.push((p.clone(), "expected at least one {value, weight}".into()));
                }
                for (i, a) in alts.iter().enumerate() {
                    let pi = format!("{p}[{i}]");
                    check_range(a.value, join(&pi, "value"), errs);
                    if !(a.weight > 0.0 && a.weight.is_finite()) {
                        errs.push((
                            join(&pi, "weight"),
                            format!("expected a positive finite weight, got {}", a.weight),
                        ));
                    }
                }
                let total: f64 = alts.iter().map(|a| a.weight).sum();
                if !total.is_finite() && alts.iter().all(|a| a.weight.is_finite()) {
                    errs.push((p, "weights are too large: their sum overflows".into()));
                }
            }
            Dist::Lognormal(ln) => {
                let p = join(path, "lognormal");
                if ln.median.base() < 1 {
                    errs.push((
                        join(&p, "median"),
                        format!(
                            "expected a positive median, got {}",
                            T::show(ln.median.base())
                        ),
                    ));
                }
                if !(ln.sigma > 0.0 && ln.sigma <= MAX_SIGMA) {
                    errs.push((
                        join(&p, "sigma"),
                        format!("expected sigma in (0, {MAX_SIGMA}], got {}", ln.sigma),
                    ));
                }
                check_clamps(ln.min, ln.max, &p, errs);
            }
            Dist::Exponential(ex) => {
                let p = join(path, "exponential");
                if ex.mean.base() < 1 {
                    errs.push((
                        join(&p, "mean"),
                        format!("expected a positive mean, got {}", T::show(ex.mean.base())),
                    ));
                }
                check_clamps(ex.min, ex.max, &p, errs);
            }
        }
    }
}

/// Words of randomness every field consumes per pod, used or not.
pub const WORDS_PER_FIELD: usize = 2;

/// A uniform in (0, 1]: never 0, so `ln` is finite. 53 random bits.
pub fn unit_open0(w: u64) -> f64 {
    ((w >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform in [0, 1). 53 random bits.
pub fn unit_closed0(w: u64) -> f64 {
    (w >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A standard normal from two words (Box–Muller, cosine branch).
pub fn standard_normal(w: [u64; 2]) -> f64 {
    (-2.0 * detmath::ln(unit_open0(w[0]))).sqrt() * detmath::cos_turns(unit_closed0(w[1]))
}

/// Round to the nearest integer and clamp into `[lo, hi]` (NaN cannot occur for valid specs).
fn round_clamp(x: f64, lo: i64, hi: i64) -> i64 {
    let r = x.round();
    if r <= lo as f64 {
        lo
    } else if r >= hi as f64 {
        hi
    } else {
        (r as i64).clamp(lo, hi)
    }
}

/// A validated distribution, precomputed for drawing.
#[derive(Debug, Clone)]
pub(crate) enum Sampler {
    Constant(i64),
    /// `lo + floor(w · span / 2^64)`: one word, bias below span/2^64.
    Uniform {
        lo: i64,
        span: u128,
    },
    Choice {
        cumulative: Vec<f64>,
        values: Vec<i64>,
    },
    LogNormal {
        mu: f64,
        sigma: f64,
        lo: i64,
        hi: i64,
    },
    Exponential {
        mean: f64,
        lo: i64,
        hi: i64,
    },
}

impl Sampler {
    /// Precomputes `d`, which must have passed [`Dist::validate`].
    pub fn new<T: Unit>(d: &Dist<T>) -> Sampler {
        let clamps = |min: Option<T>, max: Option<T>, floor: i64| {
            let lo = min.map_or(floor, |m| m.base().max(floor));
            let hi = max.map_or(T::MAX, |m| m.base().min(T::MAX));
            (lo, hi.max(lo))
        };
        match d {
            Dist::Constant(v) => Sampler::Constant(v.base()),
            Dist::Uniform(lo, hi) => Sampler::Uniform {
                lo: lo.base(),
                span: (i128::from(hi.base()) - i128::from(lo.base()) + 1).max(1) as u128,
            },
            Dist::Choice(alts) => {
                let mut acc = 0.0;
                let cumulative = alts
                    .iter()
                    .map(|a| {
                        acc += a.weight;
                        acc
                    })
                    .collect();
                Sampler::Choice {
                    cumulative,
                    values: alts.iter().map(|a| a.value.base()).collect(),
                }
            }
            Dist::Lognormal(ln) => {
                let (lo, hi) = clamps(ln.min, ln.max, 1.max(T::MIN));
                Sampler::LogNormal {
                    mu: detmath::ln(ln.median.base() as f64),
                    sigma: ln.sigma,
                    lo,
                    hi,
                }
            }
            Dist::Exponential(ex) => {
                let (lo, hi) = clamps(ex.min, ex.max, 0.max(T::MIN));
                Sampler::Exponential {
                    mean: ex.mean.base() as f64,
                    lo,
                    hi,
                }
            }
        }
    }

    /// One draw from this field's two words.
    pub fn sample(&self, w: [u64; WORDS_PER_FIELD]) -> i64 {
        match self {
            Sampler::Constant(v) => *v,
            Sampler::Uniform { lo, span } => {
                let off = (u128::from(w[0]) * span) >> 64;
                (i128::from(*lo) + off as i128) as i64
            }
            Sampler::Choice { cumulative, values } => {
                let total = cumulative.last().copied().unwrap_or(0.0);
                let x = unit_closed0(w[0]) * total;
                let i = cumulative
                    .iter()
                    .position(|&c| x < c)
                    .unwrap_or(values.len().saturating_sub(1));
                values.get(i).copied().unwrap_or(0)
            }
            Sampler::LogNormal { mu, sigma, lo, hi } => {
                round_clamp(detmath::exp(mu + sigma * standard_normal(w)), *lo, *hi)
            }
            Sampler::Exponential { mean, lo, hi } => {
                round_clamp(-mean * detmath::ln(unit_open0(w[0])), *lo, *hi)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::stream;
    use rand::Rng;

    fn words(n: usize, seed: u64) -> Vec<[u64; 2]> {
        let mut r = stream(seed, "workload/dist-test");
        (0..n).map(|_| [r.next_u64(), r.next_u64()]).collect()
    }

    fn parse<T: Unit + for<'de> Deserialize<'de>>(yaml: &str) -> Dist<T> {
        serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"))
    }

    fn errors<T: Unit>(d: &Dist<T>) -> Errors {
        let mut e = Vec::new();
        d.validate("g.cpu", &mut e);
        e
    }

    #[test]
    fn quantities_parse_from_strings_and_numbers() {
        let d: Dist<Millicores> = parse("uniform: [250m, 2]");
        assert_eq!(d, Dist::Uniform(Millicores(250), Millicores(2000)));
        let d: Dist<Millicores> = parse("constant: 0.5");
        assert_eq!(d, Dist::Constant(Millicores(500)));
        let d: Dist<Bytes> = parse("lognormal: {median: 512Mi, sigma: 0.5}");
        assert!(matches!(
            d,
            Dist::Lognormal(LogNormal {
                median: Bytes(536_870_912),
                ..
            })
        ));
        let d: Dist<SimDuration> =
            parse("choice: [{value: 5m, weight: 3}, {value: 30m, weight: 1}]");
        assert!(matches!(d, Dist::Choice(ref v) if v.len() == 2));
        let d: Dist<i32> = parse("exponential: {mean: 7}");
        assert!(matches!(d, Dist::Exponential(Exponential { mean: 7, .. })));
    }

    #[test]
    fn exactly_one_shape() {
        let e = serde_yaml::from_str::<Dist<i32>>("{constant: 1, uniform: [1, 2]}").unwrap_err();
        assert!(e.to_string().contains("found constant and uniform"), "{e}");
        let e = serde_yaml::from_str::<Dist<i32>>("{}").unwrap_err();
        assert!(e.to_string().contains("expected exactly one of"), "{e}");
        let e = serde_yaml::from_str::<Dist<i32>>("{normal: 1}").unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{e}");
        let e = serde_yaml::from_str::<Dist<Millicores>>("{constant: 4 cores}").unwrap_err();
        assert!(e.to_string().contains("invalid quantity"), "{e}");
    }

    #[test]
    fn validation_messages_name_the_field() {
        let d: Dist<Millicores> = parse("uniform: [2, 250m]");
        assert_eq!(
            errors(&d),
            vec![(
                "g.cpu.uniform".to_string(),
                "lower bound 2 is above upper bound 250m".to_string()
            )]
        );
        let d: Dist<Millicores> = parse("constant: -1");
        assert_eq!(errors(&d)[0].0, "g.cpu.constant");
        assert!(errors(&d)[0].1.contains("at least 0"));
        let d: Dist<Millicores> = parse("choice: [{value: 1, weight: 1}, {value: 2, weight: 0}]");
        assert_eq!(errors(&d)[0].0, "g.cpu.choice[1].weight");
        let d: Dist<Millicores> = parse("choice: [{value: 1, weight: -2}]");
        assert_eq!(errors(&d)[0].0, "g.cpu.choice[0].weight");
        let d: Dist<Millicores> = parse("choice: []");
        assert_eq!(errors(&d)[0].0, "g.cpu.choice");
        for sigma in ["0", "-1", "10.5", ".nan"] {
            let d: Dist<Millicores> = parse(&format!("lognormal: {{median: 1, sigma: {sigma}}}"));
            assert_eq!(errors(&d)[0].0, "g.cpu.lognormal.sigma", "{sigma}");
        }
        let d: Dist<Millicores> = parse("lognormal: {median: 1, sigma: 10}");
        assert!(errors(&d).is_empty());
        let d: Dist<Millicores> = parse("lognormal: {median: 0, sigma: 1}");
        assert_eq!(errors(&d)[0].0, "g.cpu.lognormal.median");
        let d: Dist<Millicores> = parse("lognormal: {median: 1, sigma: 1, min: 2, max: 1}");
        assert_eq!(
            errors(&d),
            vec![(
                "g.cpu.lognormal.min".to_string(),
                "min 2 is above max 1".to_string()
            )]
        );
        let d: Dist<SimDuration> = parse("exponential: {mean: 0s}");
        assert_eq!(errors(&d)[0].0, "g.cpu.exponential.mean");
    }

    #[test]
    fn uniform_stays_in_bounds_and_hits_both_ends() {
        let s = Sampler::new(&Dist::Uniform(Millicores(250), Millicores(260)));
        let draws: Vec<i64> = words(20_000, 1).into_iter().map(|w| s.sample(w)).collect();
        assert!(draws.iter().all(|v| (250..=260).contains(v)));
        assert!(draws.contains(&250) && draws.contains(&260));
        // the full i64 span cannot overflow
        let s = Sampler::new(&Dist::Uniform(i32::MIN, i32::MAX));
        for w in words(1000, 2) {
            let v = s.sample(w);
            assert!((i64::from(i32::MIN)..=i64::from(i32::MAX)).contains(&v));
        }
        assert_eq!(s.sample([0, 0]), i64::from(i32::MIN));
        assert_eq!(s.sample([u64::MAX, 0]), i64::from(i32::MAX));
    }

    #[test]
    fn choice_follows_weights() {
        let d: Dist<i32> = parse(
            "choice: [{value: 1, weight: 3}, {value: 2, weight: 1}, {value: 3, weight: 0.5}]",
        );
        let s = Sampler::new(&d);
        let n = 90_000;
        let mut counts = [0usize; 4];
        for w in words(n, 3) {
            counts[s.sample(w) as usize] += 1;
        }
        for (v, weight) in [(1, 3.0), (2, 1.0), (3, 0.5)] {
            let want = weight / 4.5;
            let got = counts[v] as f64 / n as f64;
            assert!((got - want).abs() < 0.01, "value {v}: {got} vs {want}");
        }
    }

    #[test]
    fn lognormal_median_and_clamps() {
        let d: Dist<Bytes> = parse("lognormal: {median: 512Mi, sigma: 0.5}");
        let s = Sampler::new(&d);
        let mut draws: Vec<i64> = words(100_001, 4).into_iter().map(|w| s.sample(w)).collect();
        draws.sort_unstable();
        let median = draws[draws.len() / 2] as f64;
        let want = 536_870_912.0;
        assert!((median / want - 1.0).abs() < 0.03, "median {median}");
        // spread: the 84th percentile is about median·e^sigma
        let p84 = draws[(draws.len() as f64 * 0.8413) as usize] as f64;
        assert!(
            (p84 / (want * 0.5f64.exp()) - 1.0).abs() < 0.03,
            "p84 {p84}"
        );

        let d: Dist<Millicores> = parse("lognormal: {median: 100m, sigma: 3, min: 50m, max: 200m}");
        let s = Sampler::new(&d);
        let draws: Vec<i64> = words(5000, 5).into_iter().map(|w| s.sample(w)).collect();
        assert!(draws.iter().all(|v| (50..=200).contains(v)));
        assert!(draws.contains(&50) && draws.contains(&200));
        // never below one unit even with a tiny median
        let d: Dist<Millicores> = parse("lognormal: {median: 1m, sigma: 10}");
        let s = Sampler::new(&d);
        assert!(words(5000, 6).into_iter().all(|w| s.sample(w) >= 1));
    }

    #[test]
    fn exponential_mean() {
        let d: Dist<SimDuration> = parse("exponential: {mean: 10s}");
        let s = Sampler::new(&d);
        let n = 100_000;
        let sum: i64 = words(n, 7).into_iter().map(|w| s.sample(w)).sum();
        let mean = sum as f64 / n as f64;
        assert!((mean / 10_000.0 - 1.0).abs() < 0.03, "mean {mean}");
    }

    #[test]
    fn normal_draws_have_unit_variance() {
        let n = 100_000;
        let zs: Vec<f64> = words(n, 8).into_iter().map(standard_normal).collect();
        let mean = zs.iter().sum::<f64>() / n as f64;
        let var = zs.iter().map(|z| (z - mean) * (z - mean)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.02, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "var {var}");
    }

    #[test]
    fn unit_draws_cover_their_intervals() {
        assert_eq!(unit_closed0(0), 0.0);
        assert!(unit_closed0(u64::MAX) < 1.0);
        assert!(unit_open0(0) > 0.0);
        assert_eq!(unit_open0(u64::MAX), 1.0);
    }

    #[test]
    fn exact_duration_round_trips() {
        for ms in [0, 1, 999, 1000, 61_001, 5_400_000, 90_061_001] {
            let s = exact_duration(ms);
            assert_eq!(SimDuration::parse(&s).unwrap().as_millis(), ms, "{s}");
        }
        assert_eq!(exact_duration(121_000), "2m1s");
    }
}

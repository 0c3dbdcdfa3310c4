//! Virtual time. Integer milliseconds, never floats, so that two runs of the same
//! scenario agree to the last event on any machine.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// A point in virtual time, in milliseconds since the start of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(u64);

/// A span of virtual time, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimDuration(u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    /// The end of time: used for "never" without an Option.
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub const fn from_millis(ms: u64) -> Self {
        SimTime(ms)
    }
    pub const fn as_millis(self) -> u64 {
        self.0
    }
    /// Time elapsed since `earlier` (zero if `earlier` is later).
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms)
    }
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * 1000)
    }
    pub const fn as_millis(self) -> u64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }
    /// Multiply, saturating: backoffs double without ever wrapping.
    pub fn saturating_mul(self, k: u64) -> Self {
        SimDuration(self.0.saturating_mul(k))
    }

    /// Parse a Go-style duration: `250ms`, `30s`, `5m`, `1h30m`, `2d`, `1.5s`.
    /// Units: `ms`, `s`, `m`, `h`, `d`. A bare `0` is zero. Sub-millisecond results are an error.
    pub fn parse(s: &str) -> Result<SimDuration, DurationError> {
        let err = |reason: &str| DurationError {
            input: s.to_string(),
            reason: reason.to_string(),
        };
        let t = s.trim();
        if t.is_empty() {
            return Err(err("empty duration"));
        }
        if t == "0" {
            return Ok(SimDuration::ZERO);
        }
        let bytes = t.as_bytes();
        let mut i = 0;
        let mut total: u128 = 0;
        while i < bytes.len() {
            // number: digits with an optional fraction
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            let num = &t[start..i];
            if num.is_empty() || num == "." || num.matches('.').count() > 1 {
                return Err(err(
                    "expected a number followed by a unit (ms, s, m, h, d), e.g. 30s or 1h30m",
                ));
            }
            let ustart = i;
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            let unit_ms: u128 = match &t[ustart..i] {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                "" => return Err(err("missing unit: use ms, s, m, h or d (e.g. 30s)")),
                _ => {
                    return Err(err(
                        "unknown unit: use ms, s, m, h or d (e.g. 30s, 5m, 1h30m)",
                    ))
                }
            };
            // exact decimal arithmetic: value = int.frac × unit
            let (int_part, frac_part) = num.split_once('.').unwrap_or((num, ""));
            if int_part.len() > 15 || frac_part.len() > 9 {
                return Err(err("number too long"));
            }
            let int: u128 = if int_part.is_empty() {
                0
            } else {
                int_part.parse().map_err(|_| err("bad number"))?
            };
            let mut part = int * unit_ms;
            if !frac_part.is_empty() {
                let frac: u128 = frac_part.parse().map_err(|_| err("bad number"))?;
                let scale = 10u128.pow(frac_part.len() as u32);
                let num = frac * unit_ms;
                if !num.is_multiple_of(scale) {
                    return Err(err("finer than the 1ms resolution of virtual time"));
                }
                part += num / scale;
            }
            total += part;
            if total > u64::MAX as u128 / 4 {
                return Err(err("duration too large"));
            }
        }
        Ok(SimDuration(total as u64))
    }
}

/// A duration string that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason}")]
pub struct DurationError {
    pub input: String,
    pub reason: String,
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}
impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}
impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}
impl Sub for SimTime {
    type Output = SimDuration;
    fn sub(self, o: SimTime) -> SimDuration {
        self.since(o)
    }
}

/// Human form, as kubectl prints ages: `45s`, `5m12s`, `3h4m`, `2d3h`, `250ms`.
pub fn human(d: SimDuration) -> String {
    let ms = d.0;
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let s = ms / 1000;
    let (d_, h, m, sec) = (s / 86400, (s / 3600) % 24, (s / 60) % 60, s % 60);
    if d_ > 0 {
        if h > 0 && d_ < 8 {
            format!("{d_}d{h}h")
        } else {
            format!("{d_}d")
        }
    } else if h > 0 {
        if m > 0 {
            format!("{h}h{m}m")
        } else {
            format!("{h}h")
        }
    } else if m > 0 {
        if sec > 0 && m < 10 {
            format!("{m}m{sec}s")
        } else {
            format!("{m}m")
        }
    } else {
        format!("{sec}s")
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&human(*self))
    }
}

impl fmt::Display for SimTime {
    /// `t=1m30s`-style, for messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", human(SimDuration(self.0)))
    }
}

impl<'de> serde::Deserialize<'de> for SimDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = SimDuration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as 250ms, 30s, 5m, 1h30m or 2d")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SimDuration, E> {
                SimDuration::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<SimDuration, E> {
                if v == 0 {
                    Ok(SimDuration::ZERO)
                } else {
                    Err(E::custom(format!(
                        "a bare number ({v}) is ambiguous: add a unit, e.g. {v}s or {v}m"
                    )))
                }
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<SimDuration, E> {
                if v < 0 {
                    Err(E::custom("a duration cannot be negative"))
                } else {
                    self.visit_u64(v as u64)
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl serde::Serialize for SimDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}ms", self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> u64 {
        SimDuration::parse(s).unwrap().as_millis()
    }

    #[test]
    fn parses_every_unit_and_compound() {
        assert_eq!(p("250ms"), 250);
        assert_eq!(p("30s"), 30_000);
        assert_eq!(p("5m"), 300_000);
        assert_eq!(p("1h30m"), 5_400_000);
        assert_eq!(p("2d"), 172_800_000);
        assert_eq!(p("1.5s"), 1500);
        assert_eq!(p("0"), 0);
        assert_eq!(p("1m0.5s"), 60_500);
    }

    #[test]
    fn rejects_garbage_with_reason() {
        for bad in ["", "5", "5x", "s", "1.2.3s", "0.0001s", "-5s", "5 m"] {
            assert!(
                SimDuration::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
        let e = SimDuration::parse("10 minutes").unwrap_err();
        assert!(e.to_string().contains("10 minutes"));
    }

    #[test]
    fn huge_durations_are_rejected_not_wrapped() {
        assert!(SimDuration::parse("999999999999999d").is_err());
    }

    #[test]
    fn human_matches_kubectl_ages() {
        assert_eq!(human(SimDuration::from_secs(45)), "45s");
        assert_eq!(human(SimDuration::from_secs(312)), "5m12s");
        assert_eq!(human(SimDuration::from_secs(3 * 3600 + 4 * 60)), "3h4m");
        assert_eq!(human(SimDuration::from_secs(2 * 86400 + 3 * 3600)), "2d3h");
        assert_eq!(human(SimDuration::from_secs(95 * 86400)), "95d");
    }
}

//! `ln`, `exp` and `cos` built from `+ - * /` only.
//!
//! `f64::ln`, `exp` and `cos` call the platform's libm, whose last bit differs
//! between systems; one ulp can move a rounded millisecond and with it the whole
//! event order. IEEE-754 basic operations are correctly rounded everywhere (and
//! Rust never fuses them into FMA), so these versions give every machine the same
//! workload. They are accurate to a few ulp, far finer than the integer rounding
//! that follows.

use std::f64::consts::{FRAC_PI_2, SQRT_2};

/// High part of ln 2 with trailing zero bits, so `k * LN2_HI` is exact (fdlibm).
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
/// The rest of ln 2.
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// 2^54, to lift subnormals into the normal range.
const TWO_54: f64 = f64::from_bits((1023 + 54) << 52);

/// Natural logarithm.
pub fn ln(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return x;
    }
    let (mut x, mut e) = (x, 0i32);
    if x < f64::MIN_POSITIVE {
        x *= TWO_54;
        e = -54;
    }
    // x = m · 2^e with m in [√½, √2]
    let bits = x.to_bits();
    e += ((bits >> 52) & 0x7ff) as i32 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    // ln m = 2 atanh s = 2(s + s³/3 + s⁵/5 + ...), |s| ≤ 0.172: 13 terms reach 1e-20.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut poly = 0.0;
    for k in (1..=13).rev() {
        poly = poly * s2 + 1.0 / f64::from(2 * k + 1);
    }
    let ln_m = 2.0 * (s + s * s2 * poly);
    let e = f64::from(e);
    e * LN2_HI + (ln_m + e * LN2_LO)
}

/// e^x.
pub fn exp(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x > 709.8 {
        return f64::INFINITY;
    }
    if x < -745.2 {
        return 0.0;
    }
    // x = k ln 2 + r, |r| ≤ ln2/2; e^r by Taylor (18 terms: 0.35^19/19! < 1e-25).
    let k = (x / std::f64::consts::LN_2).round();
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let mut p = 1.0;
    for n in (1..=18).rev() {
        p = 1.0 + r * p / f64::from(n);
    }
    scale_pow2(p, k as i32)
}

/// `p · 2^k`, in steps so that neither factor overflows on its own.
fn scale_pow2(mut p: f64, mut k: i32) -> f64 {
    let pow2 = |k: i32| f64::from_bits(((k + 1023) as u64) << 52);
    while k > 1000 {
        p *= pow2(1000);
        k -= 1000;
    }
    while k < -1000 {
        p *= pow2(-1000);
        k += 1000;
    }
    p * pow2(k)
}

/// cos(2πu): the angle is given in turns so the quadrant reduction is exact.
pub fn cos_turns(u: f64) -> f64 {
    let t = u - u.floor();
    let q4 = t * 4.0;
    let q = q4.floor();
    // exact, in [0, 1); then cos and sin of f·π/2, each from an argument ≤ π/4
    let f = q4 - q;
    let (c, s) = if f <= 0.5 {
        let a = f * FRAC_PI_2;
        (cos_small(a), sin_small(a))
    } else {
        let a = (1.0 - f) * FRAC_PI_2;
        (sin_small(a), cos_small(a))
    };
    match q as u8 {
        0 => c,
        1 => -s,
        2 => -c,
        _ => s,
    }
}

/// Taylor series for |a| ≤ π/4 (10 terms: below 1e-20).
fn sin_small(a: f64) -> f64 {
    let a2 = a * a;
    let mut p = 1.0;
    for n in (1..=10).rev() {
        p = 1.0 - a2 * p / f64::from((2 * n) * (2 * n + 1));
    }
    a * p
}

/// Taylor series for |a| ≤ π/4.
fn cos_small(a: f64) -> f64 {
    let a2 = a * a;
    let mut p = 1.0;
    for n in (1..=10).rev() {
        p = 1.0 - a2 * p / f64::from((2 * n - 1) * (2 * n));
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn ln_matches_std() {
        let mut x = 1e-310;
        while x < 1e300 {
            for m in [1.0, 1.1, 1.41, 1.42, 1.9999, 2.7, 3.3, 7.77] {
                let v = x * m;
                assert!(
                    close(ln(v), v.ln(), 1e-15),
                    "ln({v}) = {} vs {}",
                    ln(v),
                    v.ln()
                );
            }
            x *= 13.0;
        }
        assert_eq!(ln(1.0), 0.0);
        assert!(ln(-1.0).is_nan());
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
        // unit draws near 1 matter most for exponential gaps
        let v = 1.0 - 2f64.powi(-53);
        assert!(close(ln(v), v.ln(), 1e-12));
    }

    #[test]
    fn exp_matches_std() {
        let mut x = -745.0;
        while x < 709.0 {
            assert!(
                close(exp(x), x.exp(), 4e-15),
                "exp({x}) = {} vs {}",
                exp(x),
                x.exp()
            );
            x += 0.37;
        }
        for x in [0.0, 1e-10, -1e-10, 0.5, -0.5, 1.0, 20.0] {
            assert!(close(exp(x), x.exp(), 4e-16), "exp({x})");
        }
        assert_eq!(exp(800.0), f64::INFINITY);
        assert_eq!(exp(-800.0), 0.0);
    }

    #[test]
    fn cos_turns_matches_std() {
        for i in 0..10_000 {
            let u = i as f64 / 10_000.0 + 1.234e-5;
            let want = (2.0 * std::f64::consts::PI * u).cos();
            assert!((cos_turns(u) - want).abs() < 1e-15, "cos_turns({u})");
        }
        assert_eq!(cos_turns(0.0), 1.0);
        assert_eq!(cos_turns(0.5), -1.0);
    }
}

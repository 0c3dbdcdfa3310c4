//! Kubernetes resource quantities (`500m`, `1.5Gi`, `1e3`) following
//! apimachinery's `resource.Quantity` grammar.
//!
//! Everything is integer fixed-point: scheduling must not depend on float
//! rounding, and `1.5Gi` has to equal `1536Mi` exactly.

use std::fmt;
use std::str::FromStr;

/// The generic "what we wanted" text, shared so every error reads the same.
const EXPECTED: &str =
    "expected a number followed by an optional suffix (m, k, M, G, Ki, Mi, Gi, ..., or e<exp>)";

/// Nano-units per unit: the internal fixed-point scale.
const NANOS_PER_UNIT: i128 = 1_000_000_000;
/// Nano-units per milli-unit.
const NANOS_PER_MILLI: i128 = 1_000_000;
/// Exponents are saturated here so absurd inputs like `1e99999999999999999999`
/// stay cheap and overflow-free; anything this large is out of range anyway.
const EXP_LIMIT: i64 = 1_000_000_000_000_000;
/// `u128::MAX` has 39 decimal digits; longer digit strings cannot fit.
const U128_DIGITS: i64 = 39;

/// Suffixes accepted verbatim, with their scale.
const SUFFIXES: [(&str, Scale); 16] = [
    ("n", Scale::Decimal(-9)),
    ("u", Scale::Decimal(-6)),
    ("m", Scale::Decimal(-3)),
    ("", Scale::Decimal(0)),
    ("k", Scale::Decimal(3)),
    ("M", Scale::Decimal(6)),
    ("G", Scale::Decimal(9)),
    ("T", Scale::Decimal(12)),
    ("P", Scale::Decimal(15)),
    ("E", Scale::Decimal(18)),
    ("Ki", Scale::Binary(10)),
    ("Mi", Scale::Binary(20)),
    ("Gi", Scale::Binary(30)),
    ("Ti", Scale::Binary(40)),
    ("Pi", Scale::Binary(50)),
    ("Ei", Scale::Binary(60)),
];

/// Binary suffixes from largest to smallest, for compact formatting.
const BINARY_SUFFIXES: [(&str, u32); 6] = [
    ("Ei", 60),
    ("Pi", 50),
    ("Ti", 40),
    ("Gi", 30),
    ("Mi", 20),
    ("Ki", 10),
];

/// Why a string is not a usable quantity; carries the input so messages
/// make sense far from the manifest they came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid quantity {input:?}: {reason}")]
pub struct QuantityError {
    pub input: String,
    pub reason: String,
}

impl QuantityError {
    fn new(input: &str, reason: impl Into<String>) -> Self {
        QuantityError {
            input: input.to_owned(),
            reason: reason.into(),
        }
    }
}

/// An exact parsed quantity.
///
/// Stored as whole nano-units. Like upstream, anything finer than `1n` is
/// rounded up at parse time; this keeps the type `Copy` and makes equal
/// amounts (`1Ki`, `1024`) compare equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Quantity {
    nanos: i128,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scale {
    /// Multiply by `10^n`.
    Decimal(i64),
    /// Multiply by `2^n`.
    Binary(u32),
}

impl Quantity {
    /// Zero of any resource.
    pub const ZERO: Quantity = Quantity { nanos: 0 };

    /// Parses `<signedNumber><suffix>` exactly as `resource.ParseQuantity`
    /// accepts it; values too large for the fixed-point form are errors
    /// (upstream silently caps them, which would hide manifest mistakes).
    pub fn parse(s: &str) -> Result<Quantity, QuantityError> {
        let parts = split(s).map_err(|reason| QuantityError::new(s, reason))?;
        let scale = suffix_scale(parts.suffix)
            .ok_or_else(|| QuantityError::new(s, unknown_suffix_reason(parts.suffix)))?;
        let nanos = to_nanos(parts.negative, parts.int, parts.frac, scale)
            .ok_or_else(|| QuantityError::new(s, "value is too large to represent"))?;
        Ok(Quantity { nanos })
    }

    /// Builds a quantity from milli-units (e.g. millicores); always exact.
    pub fn from_millis(millis: i64) -> Quantity {
        Quantity {
            nanos: i128::from(millis) * NANOS_PER_MILLI,
        }
    }

    /// Builds a quantity from whole units (e.g. bytes); always exact.
    pub fn from_value(value: i64) -> Quantity {
        Quantity {
            nanos: i128::from(value) * NANOS_PER_UNIT,
        }
    }

    /// The exact internal amount, in nano-units.
    pub fn as_nanos(&self) -> i128 {
        self.nanos
    }

    /// Whether the amount is below zero; the grammar allows it, callers decide.
    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }

    /// Whether the amount is exactly zero.
    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }

    /// Exact sum, `None` on overflow, so resource accounting never wraps.
    pub fn checked_add(self, other: Quantity) -> Option<Quantity> {
        self.nanos
            .checked_add(other.nanos)
            .map(|nanos| Quantity { nanos })
    }

    /// Exact difference, `None` on overflow.
    pub fn checked_sub(self, other: Quantity) -> Option<Quantity> {
        self.nanos
            .checked_sub(other.nanos)
            .map(|nanos| Quantity { nanos })
    }

    /// ceil(q * 1000), e.g. CPU millicores
    pub fn milli_value(&self) -> Result<i64, QuantityError> {
        self.ceil_div(NANOS_PER_MILLI, "milli-units")
    }

    /// ceil(q), e.g. bytes
    pub fn value(&self) -> Result<i64, QuantityError> {
        self.ceil_div(NANOS_PER_UNIT, "units")
    }

    /// Rounds toward +infinity so a request never shrinks below what was asked.
    fn ceil_div(&self, divisor: i128, unit: &str) -> Result<i64, QuantityError> {
        let floor = self.nanos.div_euclid(divisor);
        let ceil = floor + i128::from(self.nanos.rem_euclid(divisor) != 0);
        i64::try_from(ceil).map_err(|_| {
            QuantityError::new(
                &self.to_string(),
                format!("value in {unit} ({ceil}) does not fit in a 64-bit signed integer"),
            )
        })
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Quantity::parse(s)
    }
}

/// Plain decimal without suffix (e.g. `1.5`, `0.000000001`); re-parses exactly.
impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.nanos < 0 { "-" } else { "" };
        let abs = self.nanos.unsigned_abs();
        let unit = NANOS_PER_UNIT.unsigned_abs();
        let (whole, frac) = (abs / unit, abs % unit);
        if frac == 0 {
            write!(f, "{sign}{whole}")
        } else {
            let digits = format!("{frac:09}");
            write!(f, "{sign}{whole}.{}", digits.trim_end_matches('0'))
        }
    }
}

/// Convenience: parse and return millicores.
pub fn parse_cpu_millis(s: &str) -> Result<i64, QuantityError> {
    Quantity::parse(s)?.milli_value()
}

/// Convenience: parse and return whole units (bytes for memory, count for pods).
pub fn parse_value(s: &str) -> Result<i64, QuantityError> {
    Quantity::parse(s)?.value()
}

/// Format millicores the way kubectl prints CPU: 1500 -> "1500m", 2000 -> "2".
pub fn format_cpu_millis(m: i64) -> String {
    if m % 1000 == 0 {
        (m / 1000).to_string()
    } else {
        format!("{m}m")
    }
}

/// Format bytes compactly with the largest exact binary suffix: 1610612736 -> "1536Mi", 17179869184 -> "16Gi", 1000 -> "1000".
pub fn format_bytes(b: i64) -> String {
    if b != 0 {
        for (suffix, shift) in BINARY_SUFFIXES {
            let unit = 1i64 << shift;
            if b % unit == 0 {
                return format!("{}{suffix}", b / unit);
            }
        }
    }
    b.to_string()
}

/// The lexical pieces of a quantity string.
struct Parts<'a> {
    negative: bool,
    int: &'a str,
    frac: &'a str,
    suffix: &'a str,
}

/// Splits into sign, integer digits, fraction digits and suffix.
fn split(s: &str) -> Result<Parts<'_>, String> {
    if s.is_empty() {
        return Err(format!("empty string; {EXPECTED}"));
    }
    if s.chars().any(char::is_whitespace) {
        return Err(EXPECTED.to_owned());
    }
    let bytes = s.as_bytes();
    let mut pos = 0;
    let mut negative = false;
    if let Some(&b) = bytes.first() {
        if b == b'+' || b == b'-' {
            negative = b == b'-';
            pos = 1;
        }
    }
    if matches!(bytes.get(pos), Some(b'+' | b'-')) {
        return Err(format!("more than one sign; {EXPECTED}"));
    }
    let digits_end = |from: usize| {
        from + bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let int_end = digits_end(pos);
    let int = &s[pos..int_end];
    let mut frac = "";
    let mut rest = int_end;
    if bytes.get(int_end) == Some(&b'.') {
        let frac_end = digits_end(int_end + 1);
        frac = &s[int_end + 1..frac_end];
        rest = frac_end;
    }
    if int.is_empty() && frac.is_empty() {
        return Err(format!("no digits; {EXPECTED}"));
    }
    Ok(Parts {
        negative,
        int,
        frac,
        suffix: &s[rest..],
    })
}

/// Maps a suffix to its scale, or `None` if it is not in the grammar.
fn suffix_scale(suffix: &str) -> Option<Scale> {
    if let Some((_, scale)) = SUFFIXES.iter().find(|(name, _)| *name == suffix) {
        return Some(*scale);
    }
    // Decimal exponent: e/E, optional sign, at least one digit. A bare "E" is
    // exa and was handled above.
    let exp = suffix.strip_prefix(['e', 'E'])?;
    let (negative, digits) = match exp.as_bytes().first()? {
        b'-' => (true, &exp[1..]),
        b'+' => (false, &exp[1..]),
        _ => (false, exp),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude = digits.bytes().fold(0i64, |acc, b| {
        (acc * 10 + i64::from(b - b'0')).min(EXP_LIMIT)
    });
    Some(Scale::Decimal(if negative {
        -magnitude
    } else {
        magnitude
    }))
}

/// Explains an unknown suffix, hinting at case mistakes like `1mi` or `1K`.
fn unknown_suffix_reason(suffix: &str) -> String {
    let hints: Vec<&str> = SUFFIXES
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !name.is_empty() && name.eq_ignore_ascii_case(suffix))
        .collect();
    if hints.is_empty() {
        format!("unknown suffix {suffix:?}; {EXPECTED}")
    } else {
        format!(
            "unknown suffix {suffix:?} (suffixes are case-sensitive; did you mean {}?); {EXPECTED}",
            hints.join(" or ")
        )
    }
}

/// Computes ceil(value * 10^9) exactly in O(input length), or `None` if it
/// does not fit in `i128`.
fn to_nanos(negative: bool, int: &str, frac: &str, scale: Scale) -> Option<i128> {
    let mut digits: Vec<u8> = int
        .bytes()
        .chain(frac.bytes())
        .map(|b| b - b'0')
        .skip_while(|&d| d == 0)
        .collect();
    if digits.is_empty() {
        return Some(0);
    }
    // Input lengths are far below i64::MAX, so these casts cannot wrap.
    let mut exp = 9 - frac.len() as i64;
    match scale {
        Scale::Decimal(e) => exp += e,
        Scale::Binary(shift) => mul_digits(&mut digits, 1u64 << shift),
    }
    let zeros = digits.iter().rev().take_while(|&&d| d == 0).count();
    digits.truncate(digits.len() - zeros);
    exp += zeros as i64;
    let len = digits.len() as i64;

    let magnitude = if exp >= 0 {
        if len + exp > U128_DIGITS {
            return None;
        }
        digits_to_u128(&digits)?.checked_mul(10u128.checked_pow(u32::try_from(exp).ok()?)?)?
    } else {
        // Dropping k low digits: they are never all zero (trailing zeros were
        // stripped), so the exact value always has a fractional nano part.
        let keep = len + exp;
        let truncated = if keep <= 0 {
            0
        } else if keep > U128_DIGITS {
            return None;
        } else {
            digits_to_u128(&digits[..keep as usize])?
        };
        // ceil: up for positives, toward zero for negatives.
        if negative {
            truncated
        } else {
            truncated.checked_add(1)?
        }
    };
    let magnitude = i128::try_from(magnitude).ok()?;
    Some(if negative { -magnitude } else { magnitude })
}

/// Multiplies a big-endian decimal digit string by `factor` in place.
fn mul_digits(digits: &mut Vec<u8>, factor: u64) {
    let mut carry: u128 = 0;
    for d in digits.iter_mut().rev() {
        let x = u128::from(*d) * u128::from(factor) + carry;
        *d = (x % 10) as u8;
        carry = x / 10;
    }
    let mut head = Vec::new();
    while carry > 0 {
        head.push((carry % 10) as u8);
        carry /= 10;
    }
    head.reverse();
    digits.splice(0..0, head);
}

fn digits_to_u128(digits: &[u8]) -> Option<u128> {
    digits.iter().try_fold(0u128, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u128::from(d))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn millis(s: &str) -> i64 {
        parse_cpu_millis(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn value(s: &str) -> i64 {
        parse_value(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn reason(s: &str) -> String {
        Quantity::parse(s).expect_err(s).reason
    }

    #[test]
    fn cpu_examples() {
        assert_eq!(millis("1.5"), 1500);
        assert_eq!(millis("0.5"), 500);
        assert_eq!(millis("100m"), 100);
        assert_eq!(millis("1"), 1000);
        assert_eq!(millis(".5"), 500);
        assert_eq!(millis("5."), 5000);
        assert_eq!(millis("+1"), 1000);
        assert_eq!(millis("250u"), 1);
        assert_eq!(millis("0"), 0);
        assert_eq!(millis("-0"), 0);
    }

    #[test]
    fn memory_examples_from_kubernetes_docs() {
        for s in ["128974848", "123Mi"] {
            assert_eq!(value(s), 128_974_848, "{s}");
        }
        for s in ["129e6", "129M"] {
            assert_eq!(value(s), 129_000_000, "{s}");
        }
        assert_eq!(value("1.5Gi"), 1_610_612_736);
        assert_eq!(value("1536Mi"), 1_610_612_736);
        assert_eq!(
            Quantity::parse("1.5Gi").unwrap(),
            Quantity::parse("1536Mi").unwrap()
        );
    }

    #[test]
    fn suffixes() {
        assert_eq!(value("1e3"), 1000);
        assert_eq!(value("1E3"), 1000);
        assert_eq!(value("1e+3"), 1000);
        assert_eq!(value("1k"), 1000);
        assert_eq!(value("1Ki"), 1024);
        assert_eq!(value("1Mi"), 1 << 20);
        assert_eq!(value("1Gi"), 1 << 30);
        assert_eq!(value("1Ti"), 1 << 40);
        assert_eq!(value("1Pi"), 1 << 50);
        assert_eq!(value("1Ei"), 1 << 60);
        assert_eq!(value("1M"), 1_000_000);
        assert_eq!(value("1G"), 1_000_000_000);
        assert_eq!(value("1T"), 1_000_000_000_000);
        assert_eq!(value("1P"), 1_000_000_000_000_000);
        assert_eq!(value("1E"), 1_000_000_000_000_000_000);
        assert_eq!(millis("12E-2"), 120);
        assert_eq!(value("12E-2"), 1);
        assert_eq!(value("0.5Ki"), 512);
        assert_eq!(value("0.0009765625Ki"), 1);
        assert_eq!(value("0.001Ki"), 2); // 1.024 rounds up
    }

    #[test]
    fn rounds_up_toward_positive_infinity() {
        assert_eq!(millis("0.1m"), 1);
        assert_eq!(value("1n"), 1);
        assert_eq!(value("1m"), 1);
        assert_eq!(value("1.000000001"), 2);
        assert_eq!(value("0.1n"), 1);
        assert_eq!(value("1e-999999999"), 1);
        // Negative values round toward +infinity too.
        assert_eq!(millis("-0.1m"), 0);
        assert_eq!(value("-1.5"), -1);
        assert_eq!(value("-0.1n"), 0);
    }

    #[test]
    fn negative_allowed_by_grammar() {
        assert_eq!(value("-1"), -1);
        assert_eq!(millis("-1"), -1000);
        assert!(Quantity::parse("-1").unwrap().is_negative());
        assert_eq!(value("-8Ei"), i64::MIN);
    }

    #[test]
    fn zero_with_huge_exponent_is_zero() {
        assert!(Quantity::parse("0e999999999").unwrap().is_zero());
        assert!(Quantity::parse("000.000Ei").unwrap().is_zero());
    }

    #[test]
    fn long_digit_strings_are_exact() {
        let tiny = format!("0.{}1e1001", "0".repeat(1000));
        assert_eq!(value(&tiny), 1);
        let big = format!("{}e-1000", "1".to_string() + &"0".repeat(1000));
        assert_eq!(value(&big), 1);
        let many = format!("1.{}1Ki", "0".repeat(200));
        assert_eq!(value(&many), 1025);
    }

    #[test]
    fn i64_limits() {
        assert_eq!(value("9223372036854775807"), i64::MAX);
        assert_eq!(millis("9223372036854775.807"), i64::MAX);
        let e = parse_value("9223372036854775808").unwrap_err();
        assert!(e.reason.contains("64-bit"), "{e}");
        assert!(parse_value("8Ei").is_err());
        assert!(parse_cpu_millis("9223372036854775807").is_err());
        assert!(parse_value("-9223372036854775809").is_err());
    }

    #[test]
    fn huge_inputs_fail_fast() {
        for s in [
            "1e999999999",
            "1E999999999999999999999999999",
            "1e38",
            "340282366920938463463374607431768211456",
        ] {
            assert_eq!(reason(s), "value is too large to represent", "{s}");
        }
        // Still parses (magnitude fits the fixed point), but not into i64.
        assert!(parse_value("1e20").is_err());
    }

    #[test]
    fn error_message_names_input_and_expectation() {
        let e = Quantity::parse("4 cores").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid quantity \"4 cores\": expected a number followed by an optional suffix \
             (m, k, M, G, Ki, Mi, Gi, ..., or e<exp>)"
        );
        assert_eq!(e.input, "4 cores");
    }

    #[test]
    fn rejects_malformed() {
        assert!(reason("").starts_with("empty string"));
        for s in [" 1", "1 ", "1 Gi", "1\t", "4 cores"] {
            assert_eq!(reason(s), EXPECTED, "{s:?}");
        }
        for s in ["--1", "+-1", "-+1", "++1"] {
            assert!(reason(s).starts_with("more than one sign"), "{s}");
        }
        for s in ["m", ".", "-", "+", "-.", "Ki", "e3", "\u{661}"] {
            assert!(reason(s).starts_with("no digits"), "{s}");
        }
        for s in [
            "10GB", "1mi", "1K", "1e", "1e-", "1e3.5", "1.5.5", "1Ki5", "1x", "1ee3", "1e3Ki",
            "1.e", "1µ",
        ] {
            assert!(
                reason(s).starts_with("unknown suffix"),
                "{s}: {}",
                reason(s)
            );
        }
        assert!(reason("1mi").contains("did you mean Mi?"));
        assert!(reason("1K").contains("did you mean k?"));
        assert!(reason("10GB").contains(EXPECTED));
    }

    #[test]
    fn formatting() {
        assert_eq!(format_cpu_millis(1500), "1500m");
        assert_eq!(format_cpu_millis(2000), "2");
        assert_eq!(format_cpu_millis(0), "0");
        assert_eq!(format_cpu_millis(-250), "-250m");
        assert_eq!(format_bytes(1_610_612_736), "1536Mi");
        assert_eq!(format_bytes(17_179_869_184), "16Gi");
        assert_eq!(format_bytes(1000), "1000");
        assert_eq!(format_bytes(0), "0");
        assert_eq!(format_bytes(1024), "1Ki");
        assert_eq!(format_bytes(i64::MIN), "-8Ei");
        assert_eq!(Quantity::parse("1.5").unwrap().to_string(), "1.5");
        assert_eq!(Quantity::parse("-100m").unwrap().to_string(), "-0.1");
        assert_eq!(Quantity::parse("1n").unwrap().to_string(), "0.000000001");
        assert_eq!(Quantity::parse("2Ki").unwrap().to_string(), "2048");
    }

    #[test]
    fn arithmetic_and_constructors() {
        let a = Quantity::from_millis(1500);
        let b = Quantity::parse("500m").unwrap();
        assert_eq!(a.checked_add(b).unwrap(), Quantity::from_value(2));
        assert_eq!(b.checked_sub(a).unwrap().milli_value().unwrap(), -1000);
        assert!(a > b);
        assert_eq!(
            "1Ki".parse::<Quantity>().unwrap().as_nanos(),
            1024 * 1_000_000_000
        );
    }

    proptest! {
        #[test]
        fn cpu_millis_round_trip(m in any::<i64>()) {
            prop_assert_eq!(Quantity::parse(&format_cpu_millis(m)).unwrap().milli_value().unwrap(), m);
        }

        #[test]
        fn bytes_round_trip(b in any::<i64>()) {
            prop_assert_eq!(Quantity::parse(&format_bytes(b)).unwrap().value().unwrap(), b);
        }

        #[test]
        fn bytes_round_trip_binary_multiples(n in -(1i64 << 40)..(1i64 << 40), shift in 0u32..23) {
            let b = n << shift;
            prop_assert_eq!(parse_value(&format_bytes(b)).unwrap(), b);
        }

        #[test]
        fn display_round_trip(nanos in any::<i64>(), scale in 0u32..12) {
            let q = Quantity { nanos: i128::from(nanos) * 10i128.pow(scale) };
            prop_assert_eq!(Quantity::parse(&q.to_string()).unwrap(), q);
        }

        #[test]
        fn decimal_matches_reference(int in 0u64..1_000_000, frac in 0u64..1_000_000, neg in any::<bool>()) {
            // Reference: exact value in micro-units, ceil to milli-units.
            let s = format!("{}{int}.{frac:06}", if neg { "-" } else { "" });
            let micros = i128::from(int) * 1_000_000 + i128::from(frac);
            let micros = if neg { -micros } else { micros };
            let expected = micros.div_euclid(1000) + i128::from(micros.rem_euclid(1000) != 0);
            prop_assert_eq!(i128::from(parse_cpu_millis(&s).unwrap()), expected);
        }
    }
}

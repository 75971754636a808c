//! Sprig's math: integer math on `int64` after `cast.ToInt64` (so `add 1.9 1` is 2), float
//! math through `shopspring/decimal` (so `mulf 1.1 3` is 3.3, not 3.3000000000000003), and the
//! conversions `int`, `int64`, `float64`, `atoi`, `toDecimal`.

use super::cast::{int_param, str_param, to_float64, to_int64};
use super::{arity, arity_min, FuncError, Registry};
use gotmpl::value::Value;

const DIVIDE_BY_ZERO: &str = "runtime error: integer divide by zero";

fn add(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::Int64(
        args.iter()
            .fold(0i64, |acc, v| acc.wrapping_add(to_int64(v))),
    ))
}

fn add1(args: &[Value]) -> Result<Value, FuncError> {
    arity("add1", args, 1)?;
    Ok(Value::Int64(to_int64(&args[0]).wrapping_add(1)))
}

fn sub(args: &[Value]) -> Result<Value, FuncError> {
    arity("sub", args, 2)?;
    Ok(Value::Int64(
        to_int64(&args[0]).wrapping_sub(to_int64(&args[1])),
    ))
}

fn div(args: &[Value]) -> Result<Value, FuncError> {
    arity("div", args, 2)?;
    let b = to_int64(&args[1]);
    if b == 0 {
        return Err(FuncError::new(DIVIDE_BY_ZERO));
    }
    Ok(Value::Int64(to_int64(&args[0]).wrapping_div(b)))
}

fn modulo(args: &[Value]) -> Result<Value, FuncError> {
    arity("mod", args, 2)?;
    let b = to_int64(&args[1]);
    if b == 0 {
        return Err(FuncError::new(DIVIDE_BY_ZERO));
    }
    Ok(Value::Int64(to_int64(&args[0]).wrapping_rem(b)))
}

fn mul(args: &[Value]) -> Result<Value, FuncError> {
    arity_min("mul", args, 1)?;
    Ok(Value::Int64(
        args[1..]
            .iter()
            .fold(to_int64(&args[0]), |acc, v| acc.wrapping_mul(to_int64(v))),
    ))
}

fn max(args: &[Value]) -> Result<Value, FuncError> {
    arity_min("max", args, 1)?;
    Ok(Value::Int64(args.iter().map(to_int64).max().unwrap_or(0)))
}

fn min(args: &[Value]) -> Result<Value, FuncError> {
    arity_min("min", args, 1)?;
    Ok(Value::Int64(args.iter().map(to_int64).min().unwrap_or(0)))
}

/// Go's `math.Max`: NaN wins, and +0 beats -0.
fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if a == 0.0 && b == 0.0 {
        return if a.is_sign_negative() { b } else { a };
    }
    if a > b {
        a
    } else {
        b
    }
}

/// Go's `math.Min`: NaN wins, and -0 beats +0.
fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if a == 0.0 && b == 0.0 {
        return if a.is_sign_negative() { a } else { b };
    }
    if a < b {
        a
    } else {
        b
    }
}

fn maxf(args: &[Value]) -> Result<Value, FuncError> {
    arity_min("maxf", args, 1)?;
    let first = to_float64(&args[0]);
    Ok(Value::Float(
        args[1..].iter().map(to_float64).fold(first, go_max),
    ))
}

fn minf(args: &[Value]) -> Result<Value, FuncError> {
    arity_min("minf", args, 1)?;
    let first = to_float64(&args[0]);
    Ok(Value::Float(
        args[1..].iter().map(to_float64).fold(first, go_min),
    ))
}

fn floor(args: &[Value]) -> Result<Value, FuncError> {
    arity("floor", args, 1)?;
    Ok(Value::Float(to_float64(&args[0]).floor()))
}

fn ceil(args: &[Value]) -> Result<Value, FuncError> {
    arity("ceil", args, 1)?;
    Ok(Value::Float(to_float64(&args[0]).ceil()))
}

/// `round X PLACES [ROUND_ON]`: rounds up when the fraction at PLACES is at least ROUND_ON
/// (default .5), as Sprig computes it in float64.
fn round(args: &[Value]) -> Result<Value, FuncError> {
    arity_min("round", args, 2)?;
    let round_on = args.get(2).map(to_float64).unwrap_or(0.5);
    let val = to_float64(&args[0]);
    let places = int_param(&args[1]) as f64;
    let pow = 10f64.powf(places);
    let digit = pow * val;
    let frac = digit - digit.trunc();
    let rounded = if frac >= round_on {
        digit.ceil()
    } else {
        digit.floor()
    };
    Ok(Value::Float(rounded / pow))
}

/// `randInt MIN MAX`: a random int in [MIN, MAX).
fn rand_int(args: &[Value]) -> Result<Value, FuncError> {
    use rand::Rng;
    arity("randInt", args, 2)?;
    let (lo, hi) = (int_param(&args[0]), int_param(&args[1]));
    if hi <= lo {
        return Err(FuncError::new("invalid argument to Intn"));
    }
    Ok(Value::Int(rand::rng().random_range(lo..hi)))
}

/// An exact decimal `mantissa * 10^exp`, enough of `shopspring/decimal` for Sprig's float math.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Decimal {
    mantissa: i128,
    exp: i32,
}

/// Decimal places `shopspring/decimal` keeps when dividing (`DivisionPrecision`).
const DIVISION_PRECISION: i32 = 16;

impl Decimal {
    /// `decimal.NewFromFloat`: the shortest decimal that reads back as `f`.
    fn from_f64(f: f64) -> Option<Decimal> {
        if !f.is_finite() {
            return None;
        }
        if f == 0.0 {
            return Some(Decimal {
                mantissa: 0,
                exp: 0,
            });
        }
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e')?;
        let exp: i32 = exp.parse().ok()?;
        let neg = mant.starts_with('-');
        let (int_part, frac_part) = mant
            .trim_start_matches('-')
            .split_once('.')
            .unwrap_or((mant.trim_start_matches('-'), ""));
        let digits = format!("{int_part}{frac_part}");
        let mantissa: i128 = digits.parse().ok()?;
        Some(Decimal {
            mantissa: if neg { -mantissa } else { mantissa },
            exp: exp - frac_part.len() as i32,
        })
    }

    /// `Decimal.Float64`: the nearest float64.
    fn to_f64(self) -> f64 {
        format!("{}e{}", self.mantissa, self.exp)
            .parse()
            .unwrap_or(f64::NAN)
    }

    /// Both values over a common exponent, if the mantissas fit.
    fn aligned(self, other: Decimal) -> Option<(i128, i128, i32)> {
        let exp = self.exp.min(other.exp);
        let scale = |d: Decimal| -> Option<i128> {
            let shift = u32::try_from(d.exp - exp).ok()?;
            d.mantissa.checked_mul(10i128.checked_pow(shift)?)
        };
        Some((scale(self)?, scale(other)?, exp))
    }

    fn add(self, other: Decimal) -> Option<Decimal> {
        let (a, b, exp) = self.aligned(other)?;
        Some(Decimal {
            mantissa: a.checked_add(b)?,
            exp,
        })
    }

    fn sub(self, other: Decimal) -> Option<Decimal> {
        let (a, b, exp) = self.aligned(other)?;
        Some(Decimal {
            mantissa: a.checked_sub(b)?,
            exp,
        })
    }

    fn mul(self, other: Decimal) -> Option<Decimal> {
        Some(Decimal {
            mantissa: self.mantissa.checked_mul(other.mantissa)?,
            exp: self.exp.checked_add(other.exp)?,
        })
    }

    /// `Decimal.Div`: rounded half away from zero to 16 decimal places.
    fn div(self, other: Decimal) -> Option<Decimal> {
        // self/other = (ma/mb) * 10^(ea-eb); we want it in units of 10^-16.
        let shift = self.exp - other.exp + DIVISION_PRECISION;
        let (num, den) = if shift >= 0 {
            (
                self.mantissa
                    .checked_mul(10i128.checked_pow(u32::try_from(shift).ok()?)?)?,
                other.mantissa,
            )
        } else {
            (
                self.mantissa,
                other
                    .mantissa
                    .checked_mul(10i128.checked_pow(u32::try_from(-shift).ok()?)?)?,
            )
        };
        let q = num / den;
        let r = num % den;
        let round_away = r.checked_mul(2)?.abs() >= den.abs();
        let q = if round_away {
            if (num < 0) != (den < 0) {
                q - 1
            } else {
                q + 1
            }
        } else {
            q
        };
        Some(Decimal {
            mantissa: q,
            exp: -DIVISION_PRECISION,
        })
    }
}

#[derive(Clone, Copy)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

/// Sprig's `execDecimalOp`: folds the operands as decimals, falling back to float64 math when
/// a value is beyond what we hold exactly (far outside the range charts use).
fn decimal_op(first: &Value, rest: &[Value], op: Op) -> Result<Value, FuncError> {
    let mut acc_f = to_float64(first);
    let mut acc = Decimal::from_f64(acc_f);
    for v in rest {
        let x = to_float64(v);
        if matches!(op, Op::Div) && x == 0.0 {
            return Err(FuncError::new("decimal division by 0"));
        }
        acc = match (acc, Decimal::from_f64(x)) {
            (Some(a), Some(b)) => match op {
                Op::Add => a.add(b),
                Op::Sub => a.sub(b),
                Op::Mul => a.mul(b),
                Op::Div => a.div(b),
            },
            _ => None,
        };
        acc_f = match op {
            Op::Add => acc_f + x,
            Op::Sub => acc_f - x,
            Op::Mul => acc_f * x,
            Op::Div => acc_f / x,
        };
        if let Some(a) = acc {
            acc_f = a.to_f64();
        }
    }
    Ok(Value::Float(acc.map(Decimal::to_f64).unwrap_or(acc_f)))
}

fn addf(args: &[Value]) -> Result<Value, FuncError> {
    decimal_op(&Value::Float(0.0), args, Op::Add)
}

fn add1f(args: &[Value]) -> Result<Value, FuncError> {
    arity("add1f", args, 1)?;
    decimal_op(&args[0], &[Value::Int(1)], Op::Add)
}

fn subf(args: &[Value]) -> Result<Value, FuncError> {
    arity_min("subf", args, 1)?;
    decimal_op(&args[0], &args[1..], Op::Sub)
}

fn mulf(args: &[Value]) -> Result<Value, FuncError> {
    arity_min("mulf", args, 1)?;
    decimal_op(&args[0], &args[1..], Op::Mul)
}

fn divf(args: &[Value]) -> Result<Value, FuncError> {
    arity_min("divf", args, 1)?;
    decimal_op(&args[0], &args[1..], Op::Div)
}

/// `int V` (an `int`) / `int64 V` (an `int64`): `cast.ToInt64` (strings with base prefixes,
/// floats truncated).
fn int(args: &[Value]) -> Result<Value, FuncError> {
    arity("int", args, 1)?;
    Ok(Value::Int(to_int64(&args[0])))
}

fn int64(args: &[Value]) -> Result<Value, FuncError> {
    arity("int64", args, 1)?;
    Ok(Value::Int64(to_int64(&args[0])))
}

fn float64(args: &[Value]) -> Result<Value, FuncError> {
    arity("float64", args, 1)?;
    Ok(Value::Float(to_float64(&args[0])))
}

/// `atoi S`: `strconv.Atoi`, decimal only, 0 on any error.
fn atoi(args: &[Value]) -> Result<Value, FuncError> {
    arity("atoi", args, 1)?;
    let s = str_param(&args[0]);
    let digits = s.strip_prefix(['+', '-']).unwrap_or(&s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Value::Int(0));
    }
    Ok(Value::Int(s.parse::<i64>().unwrap_or(0)))
}

/// `toDecimal V`: V printed with `%v` and read as octal (`"0755"` → 493), 0 on any error.
fn to_decimal(args: &[Value]) -> Result<Value, FuncError> {
    arity("toDecimal", args, 1)?;
    let s = args[0].to_go_string();
    let digits = s.strip_prefix(['+', '-']).unwrap_or(&s);
    if digits.is_empty() || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return Ok(Value::Int64(0));
    }
    Ok(Value::Int64(i64::from_str_radix(&s, 8).unwrap_or(0)))
}

pub(super) fn register(r: &mut Registry) {
    r.add("add", add);
    r.add("add1", add1);
    r.add("sub", sub);
    r.add("div", div);
    r.add("mod", modulo);
    r.add("mul", mul);
    r.add("max", max);
    r.add("biggest", max);
    r.add("min", min);
    r.add("maxf", maxf);
    r.add("minf", minf);
    r.add("floor", floor);
    r.add("ceil", ceil);
    r.add("round", round);
    r.add("randInt", rand_int);
    r.add("addf", addf);
    r.add("add1f", add1f);
    r.add("subf", subf);
    r.add("mulf", mulf);
    r.add("divf", divf);
    r.add("int", int);
    r.add("int64", int64);
    r.add("float64", float64);
    r.add("atoi", atoi);
    r.add("toDecimal", to_decimal);
}

#[cfg(test)]
mod tests {
    //! Expected values are Helm 4's output for the same calls (rendered with helm_python).
    use super::super::testing::{f, i, s, show};
    use super::*;

    #[test]
    fn integer_math_casts_to_int64() {
        assert_eq!(show("add", &[i(1), i(2), i(3)]), "6");
        assert_eq!(show("add", &[]), "0");
        let mixed = [f(1.9), s("2"), s("0x10"), Value::Bool(true), Value::Nil];
        assert_eq!(show("add", &mixed), "20");
        assert_eq!(show("add1", &[f(1.5)]), "2");
        assert_eq!(show("sub", &[i(5), i(7)]), "-2");
        assert_eq!(show("div", &[i(7), i(2)]), "3");
        assert_eq!(show("div", &[i(-7), i(2)]), "-3");
        assert_eq!(show("mod", &[i(-7), i(3)]), "-1");
        assert_eq!(show("mul", &[i(2), i(3), i(4)]), "24");
        assert_eq!(show("mul", &[i(5)]), "5");
        assert_eq!(show("max", &[i(1), i(5), i(3)]), "5");
        assert_eq!(show("min", &[i(4), i(2), i(9)]), "2");
        assert_eq!(show("biggest", &[i(1), s("8")]), "8");
        assert_eq!(
            show("div", &[i(1), i(0)]),
            "error: runtime error: integer divide by zero"
        );
        assert_eq!(
            show("mod", &[i(1), i(0)]),
            "error: runtime error: integer divide by zero"
        );
    }

    #[test]
    fn rounding() {
        assert_eq!(show("floor", &[f(1.7)]), "1");
        assert_eq!(show("floor", &[f(-1.2)]), "-2");
        assert_eq!(show("ceil", &[f(1.2)]), "2");
        assert_eq!(show("round", &[f(1.23456), i(2)]), "1.23");
        assert_eq!(show("round", &[f(2.5), i(0)]), "3");
        assert_eq!(show("round", &[f(-2.5), i(0)]), "-3");
        assert_eq!(show("round", &[f(1.5555), i(2), f(0.6)]), "1.55");
        assert_eq!(show("round", &[f(1234.5), i(-2)]), "1200");
    }

    #[test]
    fn float_math_is_decimal_exact() {
        assert_eq!(show("addf", &[f(0.1), f(0.2)]), "0.3");
        assert_eq!(show("addf", &[]), "0");
        assert_eq!(show("add1f", &[f(1.1)]), "2.1");
        assert_eq!(show("subf", &[f(1.1), f(0.2), f(0.3)]), "0.6");
        assert_eq!(show("mulf", &[f(1.1), i(3)]), "3.3");
        assert_eq!(show("mulf", &[f(0.1), f(0.1)]), "0.01");
        assert_eq!(show("divf", &[i(1), i(3)]), "0.3333333333333333");
        assert_eq!(show("divf", &[i(2), i(3)]), "0.6666666666666667");
        assert_eq!(show("divf", &[i(-2), i(3)]), "-0.6666666666666667");
        assert_eq!(show("divf", &[i(10), i(4)]), "2.5");
        assert_eq!(show("divf", &[f(1e20), i(3)]), "3.333333333333333e+19");
        assert_eq!(show("mulf", &[f(1e200), f(1e200)]), "+Inf");
        assert_eq!(show("addf", &[f(1e30), f(1e-30)]), "1e+30");
        assert_eq!(show("maxf", &[i(1), f(2.5), s("3.5")]), "3.5");
        assert_eq!(show("minf", &[i(1), f(-2.5)]), "-2.5");
        assert_eq!(show("addf", &[i(1), s("x")]), "1");
        assert_eq!(show("divf", &[i(1), i(0)]), "error: decimal division by 0");
    }

    #[test]
    fn conversions_follow_spf13_cast_and_strconv() {
        assert_eq!(show("int", &[s("42")]), "42");
        assert_eq!(show("int", &[f(3.99)]), "3");
        assert_eq!(show("int", &[s("0x1F")]), "31");
        assert_eq!(show("int", &[s("12.0")]), "12");
        assert_eq!(show("int", &[s("abc")]), "0");
        assert_eq!(show("int", &[f(1e19)]), "-9223372036854775808");
        assert_eq!(show("int", &[Value::Bool(true)]), "1");
        assert_eq!(show("int64", &[s("-5")]), "-5");
        assert_eq!(show("int64", &[s("9223372036854775808")]), "0");
        assert_eq!(show("int64", &[f(2.5e3)]), "2500");
        assert_eq!(show("float64", &[s("1.5")]), "1.5");
        assert_eq!(show("float64", &[s(" 1.5")]), "0");
        assert_eq!(show("float64", &[s("1e3")]), "1000");
        assert_eq!(show("float64", &[s("inf")]), "+Inf");
        assert_eq!(show("float64", &[Value::Nil]), "0");
        assert_eq!(show("atoi", &[s("42")]), "42");
        assert_eq!(show("atoi", &[s("+7")]), "7");
        assert_eq!(show("atoi", &[s("0x10")]), "0");
        assert_eq!(show("atoi", &[s(" 1")]), "0");
        assert_eq!(show("toDecimal", &[s("0777")]), "511");
        assert_eq!(show("toDecimal", &[i(777)]), "511");
        assert_eq!(show("toDecimal", &[s("8")]), "0");
        assert_eq!(show("toDecimal", &[s("-10")]), "-8");
    }

    #[test]
    fn rand_int_stays_in_range() {
        for _ in 0..20 {
            let v = show("randInt", &[i(3), i(6)]);
            assert!(["3", "4", "5"].contains(&v.as_str()), "{v}");
        }
        assert_eq!(
            show("randInt", &[i(5), i(5)]),
            "error: invalid argument to Intn"
        );
    }
}

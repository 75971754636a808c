//! Sprig's list functions. Each returns a new list (Go's `[]interface{}`); the `must` variants
//! and the plain ones fail alike, because a Go function's panic surfaces as the same template
//! error as a returned one.

use super::cast::{self, int_param};
use super::strings::until_step;
use super::{arity, arity_min, FuncError, Registry};
use gotmpl::value::Value;

/// What `reflect.TypeOf(nil).Kind()` does in Sprig: a nil pointer dereference.
const NIL_KIND_PANIC: &str = "runtime error: invalid memory address or nil pointer dereference";

/// The elements of a list argument, or Sprig's `Cannot <what> on type <kind>` error.
fn elements(v: &Value, what: &str) -> Result<Vec<Value>, FuncError> {
    elements_or(v, &format!("Cannot {what} on type"))
}

/// The elements of a list argument, or the error `<prefix> <kind>`.
fn elements_or(v: &Value, prefix: &str) -> Result<Vec<Value>, FuncError> {
    if v.is_nil() {
        return Err(FuncError::new(NIL_KIND_PANIC));
    }
    cast::to_list(v).ok_or_else(|| FuncError::new(format!("{prefix} {}", v.kind_name())))
}

fn list(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::list(args.to_vec()))
}

/// `append LIST V` (alias `push`).
fn push(args: &[Value]) -> Result<Value, FuncError> {
    arity("append", args, 2)?;
    let mut items = elements(&args[0], "push")?;
    items.push(args[1].clone());
    Ok(Value::list(items))
}

/// `prepend LIST V`.
fn prepend(args: &[Value]) -> Result<Value, FuncError> {
    arity("prepend", args, 2)?;
    let mut items = elements(&args[0], "prepend")?;
    items.insert(0, args[1].clone());
    Ok(Value::list(items))
}

fn first(args: &[Value]) -> Result<Value, FuncError> {
    arity("first", args, 1)?;
    let items = elements(&args[0], "find first")?;
    Ok(items.first().cloned().unwrap_or(Value::Nil))
}

fn last(args: &[Value]) -> Result<Value, FuncError> {
    arity("last", args, 1)?;
    let items = elements(&args[0], "find last")?;
    Ok(items.last().cloned().unwrap_or(Value::Nil))
}

/// `rest LIST`: all but the first (an empty list gives a nil slice, which prints as `[]`).
fn rest(args: &[Value]) -> Result<Value, FuncError> {
    arity("rest", args, 1)?;
    let items = elements(&args[0], "find rest")?;
    Ok(Value::list(items.into_iter().skip(1).collect()))
}

/// `initial LIST`: all but the last.
fn initial(args: &[Value]) -> Result<Value, FuncError> {
    arity("initial", args, 1)?;
    let mut items = elements(&args[0], "find initial")?;
    items.pop();
    Ok(Value::list(items))
}

fn reverse(args: &[Value]) -> Result<Value, FuncError> {
    arity("reverse", args, 1)?;
    let mut items = elements(&args[0], "find reverse")?;
    items.reverse();
    Ok(Value::list(items))
}

/// `uniq LIST`: first occurrences, compared as `reflect.DeepEqual` does (kinds must match).
fn uniq(args: &[Value]) -> Result<Value, FuncError> {
    arity("uniq", args, 1)?;
    let items = elements(&args[0], "find uniq")?;
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    Ok(Value::list(out))
}

/// `without LIST V...`.
fn without(args: &[Value]) -> Result<Value, FuncError> {
    arity_min("without", args, 1)?;
    let items = elements(&args[0], "find without")?;
    let omit = &args[1..];
    Ok(Value::list(
        items.into_iter().filter(|i| !omit.contains(i)).collect(),
    ))
}

/// `has NEEDLE LIST`: false for a nil list.
fn has(args: &[Value]) -> Result<Value, FuncError> {
    arity("has", args, 2)?;
    if args[1].is_nil() {
        return Ok(Value::Bool(false));
    }
    let items = cast::to_list(&args[1]).ok_or_else(|| {
        FuncError::new(format!("Cannot find has on type {}", args[1].kind_name()))
    })?;
    Ok(Value::Bool(items.contains(&args[0])))
}

/// `compact LIST`: the non-empty elements.
fn compact(args: &[Value]) -> Result<Value, FuncError> {
    arity("compact", args, 1)?;
    let items = elements(&args[0], "compact")?;
    Ok(Value::list(
        items.into_iter().filter(|i| !i.is_empty()).collect(),
    ))
}

/// `slice LIST [START [END]]`: Go's `list[start:end]`; an empty list gives nil.
fn slice(args: &[Value]) -> Result<Value, FuncError> {
    arity_min("slice", args, 1)?;
    let list = &args[0];
    if list.is_nil() {
        return Err(FuncError::new(NIL_KIND_PANIC));
    }
    let Some(items) = cast::to_list(list) else {
        return Err(FuncError::new(format!(
            "list should be type of slice or array but {}",
            list.kind_name()
        )));
    };
    if items.is_empty() {
        return Ok(Value::Nil);
    }
    let start = args.get(1).map(cast::to_int64).unwrap_or(0);
    let end = args
        .get(2)
        .map(cast::to_int64)
        .unwrap_or(items.len() as i64);
    if start < 0 || end < start || end > items.len() as i64 {
        return Err(FuncError::new(
            "reflect.Value.Slice: slice index out of bounds",
        ));
    }
    Ok(Value::list(items[start as usize..end as usize].to_vec()))
}

/// `concat LIST...`: one list of all elements; nil when given no elements at all.
fn concat(args: &[Value]) -> Result<Value, FuncError> {
    let mut out = Vec::new();
    for list in args {
        if list.is_nil() {
            return Err(FuncError::new(NIL_KIND_PANIC));
        }
        match cast::to_list(list) {
            Some(items) => out.extend(items),
            None => {
                return Err(FuncError::new(format!(
                    "Cannot concat type {} as list",
                    list.kind_name()
                )))
            }
        }
    }
    Ok(Value::list(out))
}

/// `chunk SIZE LIST`: lists of SIZE elements, the last one shorter.
fn chunk(args: &[Value]) -> Result<Value, FuncError> {
    arity("chunk", args, 2)?;
    let size = int_param(&args[0]);
    let items = elements_or(&args[1], "Cannot chunk type")?;
    if size <= 0 {
        if items.is_empty() && size < 0 {
            return Ok(Value::list(Vec::new()));
        }
        return Err(FuncError::new("runtime error: makeslice: len out of range"));
    }
    Ok(Value::list(
        items
            .chunks(size as usize)
            .map(|c| Value::list(c.to_vec()))
            .collect(),
    ))
}

fn ints(v: Vec<i64>) -> Value {
    Value::list(v.into_iter().map(Value::Int).collect())
}

/// `until N`: 0 up to (or down to) N, exclusive.
fn until(args: &[Value]) -> Result<Value, FuncError> {
    arity("until", args, 1)?;
    let count = int_param(&args[0]);
    let step = if count < 0 { -1 } else { 1 };
    Ok(ints(until_step("until", 0, count, step)?))
}

/// `untilStep START STOP STEP`.
fn until_step_fn(args: &[Value]) -> Result<Value, FuncError> {
    arity("untilStep", args, 3)?;
    let (start, stop, step) = (
        int_param(&args[0]),
        int_param(&args[1]),
        int_param(&args[2]),
    );
    Ok(ints(until_step("untilStep", start, stop, step)?))
}

pub(super) fn register(r: &mut Registry) {
    r.add("list", list);
    r.add("tuple", list);
    r.add("append", push);
    r.add("push", push);
    r.add("mustAppend", push);
    r.add("mustPush", push);
    r.add("prepend", prepend);
    r.add("mustPrepend", prepend);
    r.add("first", first);
    r.add("mustFirst", first);
    r.add("rest", rest);
    r.add("mustRest", rest);
    r.add("last", last);
    r.add("mustLast", last);
    r.add("initial", initial);
    r.add("mustInitial", initial);
    r.add("reverse", reverse);
    r.add("mustReverse", reverse);
    r.add("uniq", uniq);
    r.add("mustUniq", uniq);
    r.add("without", without);
    r.add("mustWithout", without);
    r.add("has", has);
    r.add("mustHas", has);
    r.add("compact", compact);
    r.add("mustCompact", compact);
    r.add("slice", slice);
    r.add("mustSlice", slice);
    r.add("concat", concat);
    r.add("chunk", chunk);
    r.add("mustChunk", chunk);
    r.add("until", until);
    r.add("untilStep", until_step_fn);
}

#[cfg(test)]
mod tests {
    //! Expected values are Helm 4's output for the same calls (rendered with helm_python).
    use super::super::testing::{f, i, l, s, show};
    use super::*;

    #[test]
    fn building_and_taking_apart() {
        assert_eq!(
            show("list", &[i(1), s("a"), Value::Nil, f(2.5)]),
            "[1 a <nil> 2.5]"
        );
        assert_eq!(show("tuple", &[i(1), i(2)]), "[1 2]");
        assert_eq!(show("append", &[l(&[i(1), i(2)]), i(3)]), "[1 2 3]");
        assert_eq!(show("prepend", &[l(&[i(1), i(2)]), i(0)]), "[0 1 2]");
        assert_eq!(show("first", &[l(&[i(1), i(2)])]), "1");
        assert_eq!(show("first", &[l(&[])]), "<nil>");
        assert_eq!(show("last", &[l(&[i(1), i(2)])]), "2");
        assert_eq!(show("rest", &[l(&[i(1), i(2), i(3)])]), "[2 3]");
        assert_eq!(show("rest", &[l(&[])]), "[]");
        assert_eq!(show("initial", &[l(&[i(1), i(2), i(3)])]), "[1 2]");
        assert_eq!(show("reverse", &[l(&[i(1), i(2), i(3)])]), "[3 2 1]");
    }

    #[test]
    fn filtering_uses_deep_equality() {
        let mixed = l(&[i(1), i(1), s("1"), f(1.0), i(2), i(1)]);
        assert_eq!(show("uniq", &[mixed]), "[1 1 1 2]");
        let list = l(&[i(1), i(2), i(3), i(2)]);
        assert_eq!(show("without", &[list, i(2), i(3)]), "[1]");
        assert_eq!(show("has", &[i(4), l(&[i(1), i(4)])]), "true");
        assert_eq!(show("has", &[s("1"), l(&[i(1)])]), "false");
        assert_eq!(show("has", &[i(1), Value::Nil]), "false");
        let sparse = l(&[
            i(1),
            s(""),
            Value::Nil,
            i(0),
            Value::Bool(false),
            s("a"),
            l(&[]),
            Value::empty_map(),
        ]);
        assert_eq!(show("compact", &[sparse]), "[1 a]");
    }

    #[test]
    fn slicing_concatenating_chunking() {
        let four = l(&[i(1), i(2), i(3), i(4)]);
        assert_eq!(show("slice", &[four.clone(), i(1), i(3)]), "[2 3]");
        assert_eq!(show("slice", &[four.clone(), i(1)]), "[2 3 4]");
        assert_eq!(show("slice", std::slice::from_ref(&four)), "[1 2 3 4]");
        assert_eq!(show("slice", &[l(&[]), i(1)]), "<nil>");
        assert_eq!(
            show("slice", &[l(&[i(1), i(2)]), i(1), i(5)]),
            "error: reflect.Value.Slice: slice index out of bounds"
        );
        let lists = [l(&[i(1), i(2)]), l(&[i(3)]), l(&[])];
        assert_eq!(show("concat", &lists), "[1 2 3]");
        let five = l(&[i(1), i(2), i(3), i(4), i(5)]);
        assert_eq!(show("chunk", &[i(2), five]), "[[1 2] [3 4] [5]]");
        assert_eq!(show("chunk", &[i(2), l(&[])]), "[]");
    }

    #[test]
    fn ranges_of_ints() {
        assert_eq!(show("until", &[i(5)]), "[0 1 2 3 4]");
        assert_eq!(show("until", &[i(-3)]), "[0 -1 -2]");
        assert_eq!(show("untilStep", &[i(3), i(6), i(2)]), "[3 5]");
        assert_eq!(show("untilStep", &[i(6), i(3), i(-1)]), "[6 5 4]");
    }

    #[test]
    fn non_lists_fail_as_in_sprig() {
        let cases = [
            ("first", vec![s("abc")], "Cannot find first on type string"),
            ("append", vec![s("abc"), i(1)], "Cannot push on type string"),
            (
                "slice",
                vec![s("abc"), i(1)],
                "list should be type of slice or array but string",
            ),
            ("chunk", vec![i(2), s("x")], "Cannot chunk type string"),
            (
                "concat",
                vec![l(&[i(1)]), s("x")],
                "Cannot concat type string as list",
            ),
            ("has", vec![i(1), s("x")], "Cannot find has on type string"),
            ("first", vec![Value::Nil], NIL_KIND_PANIC),
        ];
        for (name, args, want) in cases {
            assert_eq!(show(name, &args), format!("error: {want}"), "{name}");
        }
    }

    #[test]
    fn must_variants_return_the_same_and_fail_on_non_lists() {
        // Helm 4.2.3: `mustFirst "abc"` fails with "Cannot find first on type string",
        // `mustAppend "x" 1` with "Cannot push on type string".
        let one_two = || l(&[i(1), i(2)]);
        assert_eq!(show("mustAppend", &[l(&[i(1)]), i(2)]), "[1 2]");
        assert_eq!(show("mustPush", &[l(&[i(1)]), i(3)]), "[1 3]");
        assert_eq!(show("mustPrepend", &[l(&[i(1)]), i(0)]), "[0 1]");
        assert_eq!(
            show("mustChunk", &[i(2), l(&[i(1), i(2), i(3)])]),
            "[[1 2] [3]]"
        );
        assert_eq!(
            show("mustCompact", &[l(&[i(1), s(""), Value::Nil, i(2)])]),
            "[1 2]"
        );
        assert_eq!(show("mustFirst", &[one_two()]), "1");
        assert_eq!(show("mustLast", &[one_two()]), "2");
        assert_eq!(show("mustInitial", &[one_two()]), "[1]");
        assert_eq!(show("mustRest", &[one_two()]), "[2]");
        assert_eq!(show("mustReverse", &[one_two()]), "[2 1]");
        assert_eq!(show("mustHas", &[i(1), one_two()]), "true");
        assert_eq!(show("mustSlice", &[l(&[i(1), i(2), i(3)]), i(1)]), "[2 3]");
        assert_eq!(show("mustUniq", &[l(&[i(1), i(1), i(2)])]), "[1 2]");
        assert_eq!(show("mustWithout", &[one_two(), i(1)]), "[2]");
        assert_eq!(
            show("mustFirst", &[s("abc")]),
            "error: Cannot find first on type string"
        );
        assert_eq!(
            show("mustAppend", &[s("x"), i(1)]),
            "error: Cannot push on type string"
        );
    }
}

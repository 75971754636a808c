//! Guards Tera lacks, added to each parsed template before it renders:
//!
//! - a depth limit on nested template and macro calls: Tera has none, so a macro that calls
//!   itself without end, or a template that includes itself, overflowed the stack and aborted
//!   the process. In a chart whose calls can cycle, each template and macro body is wrapped in
//!   calls to [`ENTER`] and [`LEAVE`], which keep the chain of calls and end the render past
//!   [`MAX_CALL_DEPTH`] with that chain;
//! - division and remainder by zero are errors: Tera renders `1/0` as `NaN`. Each `/` and `%`
//!   becomes a call to [`DIVIDE`], which refuses a zero divisor and otherwise computes what Tera
//!   would.

use std::cell::RefCell;
use std::collections::HashMap;

use serde_json::{Number, Value};
use tera::ast::{Expr, ExprVal, FunctionCall, MathExpr, MathOperator, Node, WS};
use tera::{Template, Tera};

/// How many template and macro calls may be open at once. Tera recurses on the stack for each:
/// 990 nested macro calls overflowed the main thread's 8 MiB in a debug build, so charts whose
/// calls can cycle ([`may_recurse`]) render on a thread with [`RENDER_STACK_BYTES`] of stack
/// (reserved, not used, until a render needs it).
pub const MAX_CALL_DEPTH: usize = 1000;

/// Stack for a Tera render: [`MAX_CALL_DEPTH`] nested calls with room to spare.
pub const RENDER_STACK_BYTES: usize = 512 << 20;

/// The function each template and macro body starts with (argument `call`: what it is).
pub const ENTER: &str = "__rudder_enter";
/// The function each template and macro body ends with.
pub const LEAVE: &str = "__rudder_leave";
/// The function `/` and `%` become (arguments `lhs`, `rhs`, `operator`).
pub const DIVIDE: &str = "__rudder_divide";

/// The words that start a call-depth error, for the error locator.
pub const TOO_DEEP: &str = "template and macro calls nested more than";

thread_local! {
    /// The calls open on this thread's render, outermost first.
    static CALLS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Forgets the calls a failed render left open; call before each render.
pub fn start_render() {
    CALLS.with(|calls| calls.borrow_mut().clear());
}

/// Registers [`ENTER`], [`LEAVE`] and [`DIVIDE`].
pub fn register(tera: &mut Tera) {
    tera.register_function(ENTER, enter);
    tera.register_function(LEAVE, leave);
    tera.register_function(DIVIDE, divide);
}

fn enter(args: &HashMap<String, Value>) -> tera::Result<Value> {
    let call = args.get("call").and_then(Value::as_str).unwrap_or("?");
    CALLS.with(|calls| {
        let mut calls = calls.borrow_mut();
        calls.push(call.to_string());
        if calls.len() > MAX_CALL_DEPTH {
            return Err(tera::Error::msg(too_deep(&calls)));
        }
        Ok(Value::String(String::new()))
    })
}

fn leave(_: &HashMap<String, Value>) -> tera::Result<Value> {
    CALLS.with(|calls| calls.borrow_mut().pop());
    Ok(Value::String(String::new()))
}

/// The chain of calls, its start and its end, with the repetitions between left out.
fn too_deep(calls: &[String]) -> String {
    let shown: Vec<&str> = if calls.len() <= 8 {
        calls.iter().map(String::as_str).collect()
    } else {
        let mut shown: Vec<&str> = calls[..4].iter().map(String::as_str).collect();
        shown.push("…");
        shown.extend(calls[calls.len() - 3..].iter().map(String::as_str));
        shown
    };
    let hint = if calls.iter().all(|c| !c.starts_with("macro ")) {
        "does a template include itself?"
    } else {
        "does a macro call itself, or a template include itself, without end?"
    };
    format!(
        "{TOO_DEEP} {MAX_CALL_DEPTH} deep ({hint}): {}",
        shown.join(" -> ")
    )
}

fn divide(args: &HashMap<String, Value>) -> tera::Result<Value> {
    let operator = args.get("operator").and_then(Value::as_str).unwrap_or("/");
    let number = |side: &str| match args.get(side) {
        Some(Value::Number(n)) => Ok(n.clone()),
        other => Err(tera::Error::msg(format!(
            "`{operator}` needs numbers, got {}",
            other.map_or("nothing".to_string(), Value::to_string)
        ))),
    };
    let (l, r) = (number("lhs")?, number("rhs")?);
    if r.as_f64() == Some(0.0) {
        let source = args.get("source").and_then(Value::as_str).unwrap_or("");
        return Err(tera::Error::msg(format!(
            "division by zero in `{source}` ({l} {operator} {r})"
        )));
    }
    // What Tera computes for `/` and `%` (tera's renderer/processor.rs), zero divisors aside.
    let (lf, rf) = (l.as_f64().unwrap_or(0.0), r.as_f64().unwrap_or(0.0));
    let result = if operator == "%" {
        match (l.as_i64(), r.as_i64(), l.as_u64(), r.as_u64()) {
            (Some(a), Some(b), _, _) => Some(Number::from(a.wrapping_rem(b))),
            (_, _, Some(a), Some(b)) => Some(Number::from(a % b)),
            _ => Number::from_f64(lf % rf),
        }
    } else {
        let quotient = lf / rf;
        if quotient.round() == quotient && quotient.is_finite() {
            Some(Number::from(quotient as i64))
        } else {
            Number::from_f64(quotient)
        }
    };
    result
        .map(Value::Number)
        .ok_or_else(|| tera::Error::msg(format!("{l} {operator} {r} is not a finite number")))
}

/// Turns a parsed template's `/` and `%` into [`DIVIDE`] calls.
pub fn instrument(template: &mut Template) {
    rewrite_nodes(&mut template.ast);
    for definition in template.macros.values_mut() {
        rewrite_nodes(&mut definition.body);
    }
    for block in template.blocks.values_mut() {
        rewrite_nodes(&mut block.body);
    }
}

/// Wraps every template and macro body of `tera` in [`ENTER`] and [`LEAVE`] calls, for charts
/// whose calls can cycle ([`may_recurse`]); other charts' nesting is bounded already, and spared
/// the two calls per template and macro.
pub fn guard_calls(tera: &mut Tera) {
    for (name, template) in tera.templates.iter_mut() {
        if template.parent.is_none() {
            wrap(&mut template.ast, name.clone());
        }
        for (macro_name, definition) in template.macros.iter_mut() {
            wrap(&mut definition.body, format!("macro {macro_name} ({name})"));
        }
    }
}

fn call(name: &str, args: HashMap<String, Expr>) -> Expr {
    Expr::new(ExprVal::FunctionCall(FunctionCall {
        name: name.to_string(),
        args,
    }))
}

fn wrap(body: &mut Vec<Node>, what: String) {
    let enter = call(
        ENTER,
        HashMap::from([("call".to_string(), Expr::new(ExprVal::String(what)))]),
    );
    body.insert(0, Node::VariableBlock(WS::default(), enter));
    body.push(Node::VariableBlock(
        WS::default(),
        call(LEAVE, HashMap::new()),
    ));
}

fn rewrite_nodes(nodes: &mut [Node]) {
    for node in nodes {
        match node {
            Node::VariableBlock(_, e) => rewrite_expr(e),
            Node::MacroDefinition(_, m, _) => {
                rewrite_nodes(&mut m.body);
                m.args.values_mut().flatten().for_each(rewrite_expr);
            }
            Node::Set(_, s) => rewrite_expr(&mut s.value),
            Node::FilterSection(_, f, _) => {
                f.filter.args.values_mut().for_each(rewrite_expr);
                rewrite_nodes(&mut f.body);
            }
            Node::Block(_, b, _) => rewrite_nodes(&mut b.body),
            Node::Forloop(_, f, _) => {
                rewrite_expr(&mut f.container);
                rewrite_nodes(&mut f.body);
                if let Some(empty) = &mut f.empty_body {
                    rewrite_nodes(empty);
                }
            }
            Node::If(i, _) => {
                for (_, condition, body) in &mut i.conditions {
                    rewrite_expr(condition);
                    rewrite_nodes(body);
                }
                if let Some((_, body)) = &mut i.otherwise {
                    rewrite_nodes(body);
                }
            }
            _ => {}
        }
    }
}

fn rewrite_expr(e: &mut Expr) {
    for filter in &mut e.filters {
        filter.args.values_mut().for_each(rewrite_expr);
    }
    rewrite_val(&mut e.val);
}

fn rewrite_val(val: &mut ExprVal) {
    match val {
        ExprVal::Math(MathExpr { lhs, rhs, .. })
        | ExprVal::Logic(tera::ast::LogicExpr { lhs, rhs, .. }) => {
            rewrite_expr(lhs);
            rewrite_expr(rhs);
        }
        ExprVal::In(tera::ast::In { lhs, rhs, .. }) => {
            rewrite_expr(lhs);
            rewrite_expr(rhs);
        }
        ExprVal::Test(t) => t.args.iter_mut().for_each(rewrite_expr),
        ExprVal::MacroCall(c) => c.args.values_mut().for_each(rewrite_expr),
        ExprVal::FunctionCall(c) => c.args.values_mut().for_each(rewrite_expr),
        ExprVal::Array(items) => items.iter_mut().for_each(rewrite_expr),
        ExprVal::StringConcat(c) => c.values.iter_mut().for_each(rewrite_val),
        _ => {}
    }
    if let ExprVal::Math(m) = val {
        let operator = match m.operator {
            MathOperator::Div => "/",
            MathOperator::Modulo => "%",
            _ => return,
        };
        // The expression as written (spacing aside), for the error and to find its line.
        let source = format!(
            "{} {operator} {}",
            operand_text(&m.lhs),
            operand_text(&m.rhs)
        );
        let placeholder = Box::new(Expr::new(ExprVal::Int(0)));
        let lhs = std::mem::replace(&mut m.lhs, placeholder.clone());
        let rhs = std::mem::replace(&mut m.rhs, placeholder);
        *val = call(
            DIVIDE,
            HashMap::from([
                ("lhs".to_string(), *lhs),
                ("rhs".to_string(), *rhs),
                (
                    "operator".to_string(),
                    Expr::new(ExprVal::String(operator.to_string())),
                ),
                ("source".to_string(), Expr::new(ExprVal::String(source))),
            ]),
        )
        .val;
    }
}

/// A math operand as written, when it is a literal or a name (`…` otherwise).
fn operand_text(e: &Expr) -> String {
    if !e.filters.is_empty() || e.negated {
        return "…".to_string();
    }
    match &e.val {
        ExprVal::Int(i) => i.to_string(),
        ExprVal::Float(f) => f.to_string(),
        ExprVal::Ident(name) => name.clone(),
        ExprVal::FunctionCall(c) if c.name == DIVIDE => "…".to_string(),
        _ => "…".to_string(),
    }
}

/// Tera's `range`, refused before it is built when the list would pass the render budget (and
/// when `step_by` is 0, where Tera's would loop until memory ran out).
pub fn range(args: &HashMap<String, Value>) -> tera::Result<Value> {
    let number = |name: &str, default: Option<u64>| match (args.get(name), default) {
        (Some(v), _) => v.as_u64().ok_or_else(|| {
            tera::Error::msg(format!(
                "Function `range` received {name}={v} but `{name}` can only be a number"
            ))
        }),
        (None, Some(d)) => Ok(d),
        (None, None) => Err(tera::Error::msg(
            "Function `range` was called without a `end` argument",
        )),
    };
    let (start, end, step) = (
        number("start", Some(0))?,
        number("end", None)?,
        number("step_by", Some(1))?,
    );
    if start > end {
        return Err(tera::Error::msg(
            "Function `range` was called with a `start` argument greater than the `end` one",
        ));
    }
    if step == 0 {
        return Err(tera::Error::msg(
            "Function `range` was called with step_by=0",
        ));
    }
    let count = (end - start).div_ceil(step);
    let bytes = usize::try_from(count)
        .unwrap_or(usize::MAX)
        .saturating_mul(std::mem::size_of::<Value>());
    if bytes > crate::render::max_output_bytes() {
        return Err(tera::Error::msg(crate::render::output_limit_message(
            &format!(
                "range of {count} numbers ({})",
                crate::input::show_size(bytes as u64)
            ),
        )));
    }
    Ok(Value::Array(
        (0..count).map(|k| Value::from(start + k * step)).collect(),
    ))
}

/// A template's output, refused as it is written once it passes the render budget.
pub struct CappedOutput {
    /// What was written so far.
    pub data: Vec<u8>,
    limit: usize,
    template: String,
}

impl CappedOutput {
    /// An empty output for `template`, capped at the render budget.
    pub fn new(template: &str) -> Self {
        CappedOutput {
            data: Vec::new(),
            limit: crate::render::max_output_bytes(),
            template: template.to_string(),
        }
    }
}

impl std::io::Write for CappedOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.data.len().saturating_add(buf.len()) > self.limit {
            return Err(std::io::Error::other(crate::render::output_limit_message(
                &format!("the output of template {}", self.template),
            )));
        }
        self.data.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether a template or macro of `tera` can end up calling itself: a cycle among includes and
/// macro calls (macros matched by name alone, which can only find more cycles than there are).
/// Without one, nesting is bounded by the number of templates and macros and fits any stack;
/// with one, renders need [`RENDER_STACK_BYTES`] to reach [`MAX_CALL_DEPTH`].
pub fn may_recurse(tera: &Tera) -> bool {
    let mut graph: HashMap<String, Vec<String>> = HashMap::new();
    for (name, template) in &tera.templates {
        let mut calls = Vec::new();
        collect_nodes(&template.ast, &mut calls);
        graph.insert(format!("t:{name}"), calls);
        for (macro_name, definition) in &template.macros {
            let mut calls = Vec::new();
            collect_nodes(&definition.body, &mut calls);
            graph
                .entry(format!("m:{macro_name}"))
                .or_default()
                .extend(calls);
        }
    }
    // Depth-first search for a back edge: 1 = on the current path, 2 = finished.
    fn visit(
        node: &str,
        graph: &HashMap<String, Vec<String>>,
        state: &mut HashMap<String, u8>,
    ) -> bool {
        match state.get(node) {
            Some(1) => return true,
            Some(_) => return false,
            None => {}
        }
        state.insert(node.to_string(), 1);
        let cyclic = graph
            .get(node)
            .is_some_and(|calls| calls.iter().any(|c| visit(c, graph, state)));
        state.insert(node.to_string(), 2);
        cyclic
    }
    let mut state = HashMap::new();
    graph.keys().any(|node| visit(node, &graph, &mut state))
}

fn collect_nodes(nodes: &[Node], calls: &mut Vec<String>) {
    for node in nodes {
        match node {
            Node::VariableBlock(_, e) => collect_expr(e, calls),
            // Macro bodies are nodes of their own in the graph.
            Node::MacroDefinition(..) => {}
            Node::Include(_, names, _) => calls.extend(names.iter().map(|n| format!("t:{n}"))),
            Node::Set(_, s) => collect_expr(&s.value, calls),
            Node::FilterSection(_, f, _) => {
                f.filter.args.values().for_each(|a| collect_expr(a, calls));
                collect_nodes(&f.body, calls);
            }
            Node::Block(_, b, _) => collect_nodes(&b.body, calls),
            Node::Forloop(_, f, _) => {
                collect_expr(&f.container, calls);
                collect_nodes(&f.body, calls);
                if let Some(empty) = &f.empty_body {
                    collect_nodes(empty, calls);
                }
            }
            Node::If(i, _) => {
                for (_, condition, body) in &i.conditions {
                    collect_expr(condition, calls);
                    collect_nodes(body, calls);
                }
                if let Some((_, body)) = &i.otherwise {
                    collect_nodes(body, calls);
                }
            }
            _ => {}
        }
    }
}

fn collect_expr(e: &Expr, calls: &mut Vec<String>) {
    for filter in &e.filters {
        filter.args.values().for_each(|a| collect_expr(a, calls));
    }
    collect_val(&e.val, calls);
}

fn collect_val(val: &ExprVal, calls: &mut Vec<String>) {
    match val {
        ExprVal::Math(MathExpr { lhs, rhs, .. })
        | ExprVal::Logic(tera::ast::LogicExpr { lhs, rhs, .. })
        | ExprVal::In(tera::ast::In { lhs, rhs, .. }) => {
            collect_expr(lhs, calls);
            collect_expr(rhs, calls);
        }
        ExprVal::Test(t) => t.args.iter().for_each(|a| collect_expr(a, calls)),
        ExprVal::MacroCall(c) => {
            calls.push(format!("m:{}", c.name));
            c.args.values().for_each(|a| collect_expr(a, calls));
        }
        ExprVal::FunctionCall(c) => c.args.values().for_each(|a| collect_expr(a, calls)),
        ExprVal::Array(items) => items.iter().for_each(|a| collect_expr(a, calls)),
        ExprVal::StringConcat(c) => c.values.iter().for_each(|v| collect_val(v, calls)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tera_of(templates: &[(&str, &str)]) -> Tera {
        let mut tera = Tera::default();
        tera.add_raw_templates(templates.iter().copied()).unwrap();
        tera
    }

    #[test]
    fn only_call_cycles_need_the_deep_stack() {
        let helpers =
            "{% macro a() %}{{ self::b() }}{% endmacro a %}{% macro b() %}b{% endmacro b %}";
        let flat = tera_of(&[
            ("_h.tera", helpers),
            (
                "x.yaml",
                "{% import \"_h.tera\" as h %}{{ h::a() }}{% include \"y.yaml\" %}",
            ),
            ("y.yaml", "y"),
        ]);
        assert!(!may_recurse(&flat));
        let macro_cycle = tera_of(&[(
            "_h.tera",
            "{% macro a(n) %}{% if n > 0 %}{{ self::b(n=n) }}{% endif %}{% endmacro a %}{% macro b(n) %}{{ self::a(n=n - 1) }}{% endmacro b %}",
        )]);
        assert!(may_recurse(&macro_cycle));
        let include_cycle = tera_of(&[
            ("x.yaml", "{% include \"y.yaml\" %}"),
            ("y.yaml", "{% if true %}{% include \"x.yaml\" %}{% endif %}"),
        ]);
        assert!(may_recurse(&include_cycle));
    }
}

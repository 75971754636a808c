//! The executor: walks parse trees with Go `text/template`'s evaluation rules (Helm's
//! `missingkey=zero`), calling builtins, the registry's functions and the host's.

use std::collections::HashMap;
use std::rc::Rc;

use crate::cast;
use crate::fmt::{format_v, sprintf};
use crate::func::{FuncError, Registry};
use crate::parse::{self, Arg, Branch, Callee, Command, Fields, List, Node, Number, Pipe, Span};
use crate::value::{Dict, Value};

/// Go's limit on template call depth (`maxExecDepth`).
const MAX_EXEC_DEPTH: usize = 100_000;

/// A named template: its body and the file it was parsed from (for error positions).
#[derive(Clone)]
pub struct Template {
    pub body: Rc<List>,
    /// The file that defined it (Go's `ParseName`).
    pub file: Rc<str>,
    pub src: Rc<str>,
}

/// All templates of a render (every chart's files and `define`s share one namespace, as in Helm).
#[derive(Default, Clone)]
pub struct TemplateSet {
    templates: HashMap<String, Template>,
}

/// Go's builtins: names the executor implements itself (not in the registry).
const ENGINE_FUNCS: &[&str] = &[
    "and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge", "len", "index", "slice", "print",
    "printf", "println", "html", "js", "urlquery", "call",
];

/// The function templates call as `name`, if there is one: Go's builtins first, then the
/// registry's plain functions, then the host's (resolved once at parse time, so execution skips
/// the name lookup).
pub fn resolve_func(funcs: &Registry, name: &str) -> Option<Callee> {
    if let Some(builtin) = ENGINE_FUNCS.iter().find(|f| **f == name) {
        return Some(Callee {
            name: builtin,
            func: None,
        });
    }
    if let Some((name, func)) = funcs.entry(name) {
        return Some(Callee {
            name,
            func: Some(func),
        });
    }
    funcs
        .host_name(name)
        .map(|name| Callee { name, func: None })
}

/// A template that failed to parse.
#[derive(Debug, Clone)]
pub struct ParseFailure {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ParseFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "template: {}:{}: {}", self.file, self.line, self.message)
    }
}

/// (line, column) of a byte offset, Go style: 1-based line, 0-based byte column.
pub fn line_col(src: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(src.len());
    let before = &src.as_bytes()[..pos];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let col = match before.iter().rposition(|b| *b == b'\n') {
        Some(nl) => pos - nl - 1,
        None => pos,
    };
    (line, col)
}

/// The templates of one file, parsed but not yet added to a [`TemplateSet`]: the file itself
/// first, then its `define`s in order. Holds no shared pointers, so files can be parsed on other
/// threads and added in order afterwards.
pub type ParsedFile = Vec<(String, List)>;

/// Parses `src` as the file `file` with the functions of `funcs` (no set needed: see
/// [`TemplateSet::add_parsed`]).
pub fn parse_source(funcs: &Registry, file: &str, src: &str) -> Result<ParsedFile, ParseFailure> {
    parse::parse_file(file, src, &|name: &str| resolve_func(funcs, name)).map_err(|e| {
        let (line, _) = line_col(src, e.pos);
        ParseFailure {
            file: file.to_string(),
            line,
            message: e.message,
        }
    })
}

impl TemplateSet {
    /// Parses `src` as the file `file` and adds it and its `define`s; a later non-empty
    /// definition replaces an earlier one (Go's `AddParseTree`).
    pub fn parse_file(
        &mut self,
        funcs: &Registry,
        file: &str,
        src: &str,
    ) -> Result<(), ParseFailure> {
        let parsed = parse_source(funcs, file, src)?;
        self.add_parsed(file, Rc::from(src), parsed);
        Ok(())
    }

    /// Adds the templates parsed from `src` (the file `file`) with Go's replacement rule.
    /// Files must be added in parse order for later definitions to win as in Go.
    pub fn add_parsed(&mut self, file: &str, src: Rc<str>, parsed: ParsedFile) {
        let file_rc: Rc<str> = Rc::from(file);
        for (name, body) in parsed {
            if parse::is_empty_tree(&body, &src) && self.templates.contains_key(&name) {
                continue;
            }
            self.templates.insert(
                name,
                Template {
                    body: Rc::new(body),
                    file: file_rc.clone(),
                    src: src.clone(),
                },
            );
        }
    }

    pub fn get(&self, name: &str) -> Option<&Template> {
        self.templates.get(name)
    }
}

/// An execution error, with Go's location and, when a host function asked for it, the message
/// to show on its own (Helm's `fail`/`required`).
#[derive(Debug, Clone)]
pub struct ExecError {
    /// Go's error text: `template: FILE:L:C: executing "NAME" at <NODE>: MSG`.
    pub message: String,
    /// `FILE:L:C` of the outermost failing node.
    pub location: String,
    /// The message of a host function's [`HostError::Own`] (Helm's `fail` or `required`), which
    /// the host prints on its own.
    pub own_message: Option<String>,
    /// Helm's readable trace (location, `executing "NAME" at <NODE>:`, message) per template
    /// level, when Helm can build one: only for errors the executor itself raises (not function
    /// errors, which Helm prints raw).
    pub trace: Option<Vec<[String; 3]>>,
}

impl ExecError {
    fn plain(message: String) -> Self {
        ExecError {
            message,
            location: String::new(),
            own_message: None,
            trace: None,
        }
    }
}

enum Flow {
    Normal,
    Break,
    Continue,
}

/// Where the node being executed lives, for error messages.
#[derive(Clone)]
struct Frame {
    name: Rc<str>,
    file: Rc<str>,
    src: Rc<str>,
}

/// A failure inside evaluation before it is located: a plain message or an already-located
/// error from a nested template (include/tpl).
enum Fault {
    Msg(String),
    /// A message to show on its own ([`HostError::Own`]).
    Own(String),
    Nested(ExecError, String),
    /// An error from a `{{template}}` call, which Go propagates unchanged.
    Passthrough(ExecError),
}

type EvalResult<T> = Result<T, Box<(usize, String, Fault)>>;

fn fault<T>(pos: usize, node: impl std::fmt::Display, msg: impl Into<String>) -> EvalResult<T> {
    Err(Box::new((pos, node.to_string(), Fault::Msg(msg.into()))))
}

/// The functions that need the executor at hand, which the host adds on top of Go's language
/// (Helm's `include`, `tpl`, `required`, `fail`, `lookup`), registered by name with
/// [`Registry::add_host`].
pub trait Host {
    /// Calls the host function `name` with the evaluated arguments.
    fn call(&self, exec: &mut Exec<'_>, name: &str, args: &[Value]) -> Result<Value, HostError>;
}

/// How a host function failed; the executor adds the location of the calling node.
#[derive(Debug)]
pub enum HostError {
    /// The whole message, printed after the node (e.g. `error calling include: …`).
    Msg(String),
    /// A message the host shows on its own ([`ExecError::own_message`]); the executor prints
    /// it after `error calling NAME: `.
    Own(String),
    /// An error of a nested execution, printed after the prefix (`error calling include: `).
    Nested(ExecError, String),
}

/// Templates parsed from a string at run time ([`Exec::parse_text`]): the root and its
/// `define`s, visible only while [`Exec::execute_text`] runs it.
pub struct TextTemplates {
    root: Option<Template>,
    defines: HashMap<String, Template>,
}

/// One execution of templates (a whole chart render shares it).
pub struct Exec<'a> {
    set: &'a TemplateSet,
    funcs: &'a Registry,
    host: Option<&'a dyn Host>,
    /// Templates defined by strings parsed at run time, visible while they run.
    overlays: Vec<HashMap<String, Template>>,
    vars: Vec<(Rc<str>, Value)>,
    frame: Frame,
    depth: usize,
    /// The render budget for one output buffer (see [`crate::limits`]).
    output_limit: usize,
}

impl<'a> Exec<'a> {
    /// An execution of `set`'s templates with the functions of `funcs`, calling `host` for the
    /// host's functions.
    pub fn new(set: &'a TemplateSet, funcs: &'a Registry, host: Option<&'a dyn Host>) -> Self {
        Exec {
            set,
            funcs,
            host,
            overlays: Vec::new(),
            vars: Vec::new(),
            frame: Frame {
                name: Rc::from(""),
                file: Rc::from(""),
                src: Rc::from(""),
            },
            depth: 0,
            output_limit: crate::limits::max_output_bytes(),
        }
    }

    fn find(&self, name: &str) -> Option<Template> {
        for o in self.overlays.iter().rev() {
            if let Some(t) = o.get(name) {
                return Some(t.clone());
            }
        }
        self.set.get(name).cloned()
    }

    /// Executes the template `name` with `data` as dot and `$`, returning its output (with
    /// `<no value>` still in it; Helm strips those from whole files).
    pub fn execute(&mut self, name: &str, data: Value) -> Result<String, ExecError> {
        let Some(t) = self.find(name) else {
            return Err(ExecError::plain(format!(
                "template: no template \"{name}\" associated with template \"gotpl\""
            )));
        };
        let mut out = String::new();
        self.run(name, &t, data, &mut out)?;
        Ok(out)
    }

    fn run(
        &mut self,
        name: &str,
        t: &Template,
        data: Value,
        out: &mut String,
    ) -> Result<(), ExecError> {
        self.depth += 1;
        if self.depth > MAX_EXEC_DEPTH {
            self.depth -= 1;
            return Err(ExecError::plain(format!(
                "template: {name}: exceeded maximum template depth ({MAX_EXEC_DEPTH})"
            )));
        }
        let saved_vars = std::mem::replace(&mut self.vars, vec![(Rc::from("$"), data.clone())]);
        let saved_frame = std::mem::replace(
            &mut self.frame,
            Frame {
                name: Rc::from(name),
                file: t.file.clone(),
                src: t.src.clone(),
            },
        );
        let result = self.walk_list(&data, &t.body, out);
        let frame = std::mem::replace(&mut self.frame, saved_frame);
        self.vars = saved_vars;
        self.depth -= 1;
        match result {
            Ok(_) => Ok(()),
            Err(b) => {
                let (pos, node, f) = *b;
                Err(locate(&frame, pos, &node, f))
            }
        }
    }

    fn walk_list(&mut self, dot: &Value, list: &List, out: &mut String) -> EvalResult<Flow> {
        for node in list {
            match self.walk(dot, node, out)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Value, node: &Node, out: &mut String) -> EvalResult<Flow> {
        match node {
            Node::Text(t) => {
                out.push_str(t.text(&self.frame.src));
                self.check_output(out, t.start)?;
            }
            Node::Action(pipe) => {
                let v = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    print_value(out, &v);
                    self.check_output(out, pipe.pos)?;
                }
            }
            Node::If(b) => {
                let mark = self.vars.len();
                let v = self.eval_pipeline(dot, &b.pipe)?;
                let flow = if v.truthy() {
                    self.walk_list(dot, &b.list, out)?
                } else if let Some(e) = &b.else_list {
                    self.walk_list(dot, e, out)?
                } else {
                    Flow::Normal
                };
                self.vars.truncate(mark);
                return Ok(flow);
            }
            Node::With(b) => {
                let mark = self.vars.len();
                let v = self.eval_pipeline(dot, &b.pipe)?;
                let flow = if v.truthy() {
                    self.walk_list(&v, &b.list, out)?
                } else if let Some(e) = &b.else_list {
                    self.walk_list(dot, e, out)?
                } else {
                    Flow::Normal
                };
                self.vars.truncate(mark);
                return Ok(flow);
            }
            Node::Range(b) => return self.walk_range(dot, b, out),
            Node::Template { pos, name, pipe } => {
                let data = match pipe {
                    Some(p) => self.eval_pipeline(dot, p)?,
                    None => Value::Nil,
                };
                let Some(t) = self.find(name) else {
                    return fault(
                        *pos,
                        format!("template \"{name}\""),
                        format!(
                            "template: no template \"{name}\" associated with template \"gotpl\""
                        ),
                    );
                };
                if let Err(e) = self.run(name, &t, data, out) {
                    return Err(Box::new((*pos, String::new(), Fault::Passthrough(e))));
                }
            }
            Node::Break(_) => return Ok(Flow::Break),
            Node::Continue(_) => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    /// Ends the render once a template's output passes the render budget: a length compare per
    /// printed node, so a loop of a hundred million iterations stops at the budget, not at the
    /// end of memory.
    fn check_output(&self, out: &str, pos: usize) -> EvalResult<()> {
        if out.len() > self.output_limit {
            return fault(
                pos,
                "output",
                crate::limits::output_limit_message(&format!(
                    "the output of template \"{}\"",
                    self.frame.name
                )),
            );
        }
        Ok(())
    }

    fn walk_range(&mut self, dot: &Value, b: &Branch, out: &mut String) -> EvalResult<Flow> {
        let mark = self.vars.len();
        let pipe = &b.pipe;
        let decl = &pipe.decl;
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        let v = value.unwrap_or_default();
        // Go ranges over an integer with elements of the integer's own type; counted, not
        // collected, so `range 100000000` costs no memory before the output budget stops it.
        let count = match &v {
            Value::Int(n) => Some((*n, false)),
            Value::Int64(n) => Some((*n, true)),
            _ => None,
        };
        let items: Vec<(Value, Value)> = match &v {
            Value::Int(_) | Value::Int64(_) => Vec::new(),
            Value::List(l) => l
                .iter()
                .enumerate()
                .map(|(i, x)| (Value::Int(i as i64), x.clone()))
                .collect(),
            Value::Bytes(bs) => bs
                .iter()
                .enumerate()
                .map(|(i, x)| (Value::Int(i as i64), Value::Int(i64::from(*x))))
                .collect(),
            Value::Map(m) => m
                .entries()
                .into_iter()
                .map(|(k, x)| (Value::from(k), x))
                .collect(),
            Value::Nil => Vec::new(),
            Value::Object(o) => match o.elements() {
                Some(Value::List(l)) => l
                    .iter()
                    .enumerate()
                    .map(|(i, x)| (Value::Int(i as i64), x.clone()))
                    .collect(),
                Some(Value::Map(m)) => m
                    .entries()
                    .into_iter()
                    .map(|(k, x)| (Value::from(k), x))
                    .collect(),
                _ => {
                    return fault(
                        b.pos,
                        "range",
                        format!("range can't iterate over {}", o.format()),
                    )
                }
            },
            other => {
                return fault(
                    b.pos,
                    "range",
                    format!("range can't iterate over {}", format_v(other)),
                )
            }
        };
        let len = count.map_or(items.len() as i64, |(n, _)| n.max(0));
        if len == 0 {
            let flow = match &b.else_list {
                Some(e) => self.walk_list(dot, e, out)?,
                None => Flow::Normal,
            };
            self.vars.truncate(mark);
            return Ok(flow);
        }
        let src = self.frame.src.clone();
        let mut pairs = items.into_iter();
        for k in 0..len {
            let (key, elem) = match count {
                Some((_, true)) => (Value::Int(k), Value::Int64(k)),
                Some((_, false)) => (Value::Int(k), Value::Int(k)),
                None => match pairs.next() {
                    Some(pair) => pair,
                    None => break,
                },
            };
            let inner = self.vars.len();
            match decl.len() {
                0 => {}
                1 => self.declare(decl[0].text(&src), elem.clone(), pipe.is_assign),
                _ => {
                    self.declare(decl[0].text(&src), key, pipe.is_assign);
                    self.declare(decl[1].text(&src), elem.clone(), pipe.is_assign);
                }
            }
            let flow = self.walk_list(&elem, &b.list, out)?;
            if pipe.is_assign {
                // Assigned variables live outside the loop.
            } else {
                self.vars.truncate(inner.max(mark));
            }
            if let Flow::Break = flow {
                break;
            }
        }
        self.vars.truncate(mark);
        Ok(Flow::Normal)
    }

    fn declare(&mut self, name: &str, v: Value, assign: bool) {
        if assign {
            if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| &**n == name) {
                slot.1 = v;
            }
        } else {
            self.vars.push((Rc::from(name), v));
        }
    }

    fn variable(&self, pos: usize, name: &str) -> EvalResult<Value> {
        match self.vars.iter().rev().find(|(n, _)| &**n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => fault(pos, name, format!("undefined variable: {name}")),
        }
    }

    fn eval_pipeline(&mut self, dot: &Value, pipe: &Pipe) -> EvalResult<Value> {
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        let v = value.unwrap_or_default();
        if !pipe.decl.is_empty() {
            let src = self.frame.src.clone();
            for name in &pipe.decl {
                self.declare(name.text(&src), v.clone(), pipe.is_assign);
            }
        }
        Ok(v)
    }

    fn eval_command(
        &mut self,
        dot: &Value,
        cmd: &Command,
        final_: Option<Value>,
    ) -> EvalResult<Value> {
        let Some(first) = cmd.args.first() else {
            return fault(cmd.pos, cmd.text.text(&self.frame.src), "empty command");
        };
        let rest = &cmd.args[1..];
        match first {
            Arg::Func(pos, callee) => self.eval_function(dot, *pos, callee, cmd, rest, final_),
            Arg::Field(pos, chain) => self.eval_field_chain(
                dot,
                dot.clone(),
                *pos,
                *chain,
                chain.span,
                cmd,
                rest,
                final_,
            ),
            Arg::Variable(pos, name, chain) => {
                let v = self.variable(*pos, name.text(&self.frame.src))?;
                if chain.is_empty() {
                    self.no_args(cmd, rest, &final_)?;
                    return Ok(v);
                }
                let node = variable_node(*name, *chain);
                self.eval_field_chain(dot, v, *pos, *chain, node, cmd, rest, final_)
            }
            Arg::Chain(pos, pipe, chain) => {
                let v = self.eval_pipeline(dot, pipe)?;
                if chain.is_empty() {
                    self.no_args(cmd, rest, &final_)?;
                    return Ok(v);
                }
                self.eval_field_chain(dot, v, *pos, *chain, chain.span, cmd, rest, final_)
            }
            other => {
                self.no_args(cmd, rest, &final_)?;
                self.eval_arg(dot, other, cmd)
            }
        }
    }

    fn no_args(&self, cmd: &Command, rest: &[Arg], final_: &Option<Value>) -> EvalResult<()> {
        if !rest.is_empty() || final_.is_some() {
            let text = cmd.text.text(&self.frame.src);
            let what = match cmd.args.first() {
                Some(Arg::Nil(_)) => "nil is not a command".to_string(),
                _ => format!("can't give argument to non-function {text}"),
            };
            return fault(cmd.pos, text, what);
        }
        Ok(())
    }

    fn eval_arg(&mut self, dot: &Value, arg: &Arg, cmd: &Command) -> EvalResult<Value> {
        Ok(match arg {
            Arg::Field(pos, chain) => {
                self.eval_field_chain(dot, dot.clone(), *pos, *chain, chain.span, cmd, &[], None)?
            }
            Arg::Variable(pos, name, chain) => {
                let v = self.variable(*pos, name.text(&self.frame.src))?;
                if chain.is_empty() {
                    v
                } else {
                    let node = variable_node(*name, *chain);
                    self.eval_field_chain(dot, v, *pos, *chain, node, cmd, &[], None)?
                }
            }
            Arg::Dot(_) => dot.clone(),
            Arg::Nil(_) => Value::Nil,
            Arg::Bool(b) => Value::Bool(*b),
            Arg::Number(_, Number::Int(i)) => Value::Int(*i),
            Arg::Number(_, Number::Float(f)) => Value::Float(*f),
            Arg::Str(s) => Value::str(s.text(&self.frame.src)),
            Arg::Func(pos, callee) => self.eval_function(dot, *pos, callee, cmd, &[], None)?,
            Arg::Chain(pos, pipe, chain) => {
                let v = self.eval_pipeline(dot, pipe)?;
                if chain.is_empty() {
                    v
                } else {
                    self.eval_field_chain(dot, v, *pos, *chain, chain.span, cmd, &[], None)?
                }
            }
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_field_chain(
        &mut self,
        dot: &Value,
        receiver: Value,
        pos: usize,
        chain: Fields,
        node: Span,
        cmd: &Command,
        args: &[Arg],
        final_: Option<Value>,
    ) -> EvalResult<Value> {
        let src = self.frame.src.clone();
        // Go reports field errors at the field node: its own text, not the whole command.
        let node_text = node.text(&src);
        let mut r = receiver;
        let n = chain.count;
        for (i, name) in chain.names(&src).enumerate() {
            let last = i + 1 == n;
            if let Value::Nil = r {
                if i == 0 {
                    // An invalid receiver (nil data) yields the zero value under missingkey=zero.
                    if last && (!args.is_empty() || final_.is_some()) {
                        return fault(
                            pos,
                            node_text,
                            format!("nil data; no entry for key \"{name}\""),
                        );
                    }
                    return Ok(Value::Nil);
                }
                return fault(
                    pos,
                    node_text,
                    format!("nil pointer evaluating interface {{}}.{name}"),
                );
            }
            let has_args = last && (!args.is_empty() || final_.is_some());
            r = match &r {
                Value::Map(m) => {
                    if has_args {
                        return fault(
                            pos,
                            node_text,
                            format!("{name} is not a method but has arguments"),
                        );
                    }
                    m.get(name).unwrap_or(Value::Nil)
                }
                Value::Object(o) => {
                    let mut argv = Vec::new();
                    if last {
                        for a in args {
                            argv.push(self.eval_arg(dot, a, cmd)?);
                        }
                        if let Some(f) = &final_ {
                            argv.push(f.clone());
                        }
                    }
                    match o.member(name, &argv) {
                        Some(Ok(v)) => v,
                        Some(Err(e)) => {
                            return fault(pos, node_text, format!("error calling {name}: {e}"))
                        }
                        None => {
                            return fault(
                                pos,
                                node_text,
                                format!("can't evaluate field {name} in type {}", o.type_name()),
                            )
                        }
                    }
                }
                other => {
                    let _ = other;
                    return fault(
                        pos,
                        node_text,
                        format!("can't evaluate field {name} in type interface {{}}"),
                    );
                }
            };
        }
        Ok(r)
    }

    fn eval_args(
        &mut self,
        dot: &Value,
        cmd: &Command,
        args: &[Arg],
        final_: Option<Value>,
    ) -> EvalResult<Vec<Value>> {
        let mut out = Vec::with_capacity(args.len() + 1);
        for a in args {
            out.push(self.eval_arg(dot, a, cmd)?);
        }
        if let Some(f) = final_ {
            out.push(f);
        }
        Ok(out)
    }

    fn eval_function(
        &mut self,
        dot: &Value,
        pos: usize,
        callee: &Callee,
        cmd: &Command,
        args: &[Arg],
        final_: Option<Value>,
    ) -> EvalResult<Value> {
        let name = callee.name;
        let src = self.frame.src.clone();
        let node = cmd.text.text(&src);
        // `and`/`or` evaluate lazily and return the deciding operand.
        if name == "and" || name == "or" {
            let total = args.len() + usize::from(final_.is_some());
            if total == 0 {
                return fault(
                    pos,
                    node,
                    format!("wrong number of args for {name}: want at least 1 got 0"),
                );
            }
            let mut last = Value::Nil;
            for (i, a) in args.iter().enumerate() {
                last = self.eval_arg(dot, a, cmd)?;
                let t = last.truthy();
                let is_last = i + 1 == total;
                if !is_last && ((name == "and" && !t) || (name == "or" && t)) {
                    return Ok(last);
                }
            }
            if let Some(f) = final_ {
                last = f;
            }
            return Ok(last);
        }
        let argv = self.eval_args(dot, cmd, args, final_)?;
        let called = |r: Result<Value, String>| -> EvalResult<Value> {
            r.map_err(|e| {
                Box::new((
                    pos,
                    node.to_string(),
                    Fault::Msg(format!("error calling {name}: {e}")),
                ))
            })
        };
        match name {
            "not" => {
                want(pos, node, name, &argv, 1)?;
                Ok(Value::Bool(!argv[0].truthy()))
            }
            "eq" => {
                if argv.len() < 2 {
                    return fault(
                        pos,
                        node,
                        "error calling eq: missing argument for comparison",
                    );
                }
                called(eq(&argv[0], &argv[1..]).map(Value::Bool))
            }
            "ne" => {
                want(pos, node, name, &argv, 2)?;
                called(eq(&argv[0], &argv[1..]).map(|b| Value::Bool(!b)))
            }
            "lt" | "le" | "gt" | "ge" => {
                want(pos, node, name, &argv, 2)?;
                let (a, b) = (&argv[0], &argv[1]);
                let r = match name {
                    "lt" => lt(a, b),
                    "le" => le(a, b),
                    "gt" => le(a, b).map(|x| !x),
                    _ => lt(a, b).map(|x| !x),
                };
                called(r.map(Value::Bool))
            }
            "len" => {
                want(pos, node, name, &argv, 1)?;
                called(length(&argv[0]).map(Value::Int))
            }
            "index" => {
                if argv.is_empty() {
                    return fault(
                        pos,
                        node,
                        "wrong number of args for index: want at least 1 got 0",
                    );
                }
                called(index(&argv[0], &argv[1..]))
            }
            "slice" => {
                if argv.is_empty() {
                    return fault(
                        pos,
                        node,
                        "wrong number of args for slice: want at least 1 got 0",
                    );
                }
                called(slice(&argv[0], &argv[1..]))
            }
            "print" => Ok(Value::from(go_sprint(&argv))),
            "println" => Ok(Value::from(go_sprintln(&argv))),
            "printf" => {
                if argv.is_empty() {
                    return fault(
                        pos,
                        node,
                        "wrong number of args for printf: want at least 1 got 0",
                    );
                }
                let format = cast::str_param(&argv[0]);
                Ok(Value::from(sprintf(&format, &argv[1..])))
            }
            "html" => Ok(Value::from(html_escape(&eval_args_string(&argv)))),
            "js" => Ok(Value::from(js_escape(&eval_args_string(&argv)))),
            "urlquery" => Ok(Value::from(query_escape(&eval_args_string(&argv)))),
            "call" => fault(
                pos,
                node,
                "error calling call: templates have no function values",
            ),
            _ => match (callee.func, self.host) {
                (Some(f), _) => f(&argv).map_err(|FuncError(e)| {
                    Box::new((
                        pos,
                        node.to_string(),
                        Fault::Msg(format!("error calling {name}: {e}")),
                    ))
                }),
                (None, Some(host)) if self.funcs.host_name(name).is_some() => {
                    host.call(self, name, &argv).map_err(|e| {
                        let fault = match e {
                            HostError::Msg(m) => Fault::Msg(m),
                            HostError::Own(m) => Fault::Own(m),
                            HostError::Nested(inner, prefix) => Fault::Nested(inner, prefix),
                        };
                        Box::new((pos, node.to_string(), fault))
                    })
                }
                (None, _) => fault(pos, node, format!("function \"{name}\" not defined")),
            },
        }
    }

    /// Parses `text` as the file `file` in a copy of the current set, as Go's `Clone` + `Parse`
    /// do: its `define`s will be visible only to it (an empty one does not hide an existing
    /// template). Errors carry the line in `text`.
    pub fn parse_text(&self, file: &str, text: &str) -> Result<TextTemplates, ParseFailure> {
        let parsed = parse_source(self.funcs, file, text)?;
        let src: Rc<str> = Rc::from(text);
        let file: Rc<str> = Rc::from(file);
        let mut defines = HashMap::new();
        let mut root = None;
        for (name, body) in parsed {
            let t = Template {
                body: Rc::new(body),
                file: file.clone(),
                src: src.clone(),
            };
            if root.is_none() {
                root = Some(t);
                continue;
            }
            if parse::is_empty_tree(&t.body, text) && self.find(&name).is_some() {
                continue;
            }
            defines.insert(name, t);
        }
        Ok(TextTemplates { root, defines })
    }

    /// Executes templates from [`Exec::parse_text`] with `data` as dot and `$`, returning the
    /// output (with `<no value>` still in it); an empty text prints nothing.
    pub fn execute_text(&mut self, text: TextTemplates, data: Value) -> Result<String, ExecError> {
        let Some(root) = text.root else {
            return Ok(String::new());
        };
        let name = root.file.clone();
        self.overlays.push(text.defines);
        let mut out = String::new();
        let r = self.run(&name, &root, data, &mut out);
        self.overlays.pop();
        r.map(|()| out)
    }
}

fn want(pos: usize, node: &str, name: &str, argv: &[Value], n: usize) -> EvalResult<()> {
    if argv.len() != n {
        return fault(
            pos,
            node,
            format!(
                "wrong number of args for {name}: want {n} got {}",
                argv.len()
            ),
        );
    }
    Ok(())
}

fn locate(frame: &Frame, pos: usize, node: &str, f: Fault) -> ExecError {
    let (line, col) = line_col(&frame.src, pos);
    let location = format!("{}:{line}:{col}", frame.file);
    let head = format!(
        "template: {location}: executing \"{}\" at <{node}>: ",
        frame.name
    );
    let entry = |m: &str| {
        [
            location.clone(),
            format!("executing \"{}\" at <{node}>:", frame.name),
            m.to_string(),
        ]
    };
    match f {
        Fault::Msg(m) => ExecError {
            trace: (!m.starts_with("error calling ")).then(|| vec![entry(&m)]),
            message: format!("{head}{m}"),
            location,
            own_message: None,
        },
        Fault::Own(m) => ExecError {
            message: format!(
                "{head}error calling {}: {m}",
                node.split_whitespace().next().unwrap_or("fail")
            ),
            location,
            own_message: Some(m),
            trace: None,
        },
        Fault::Nested(inner, prefix) => ExecError {
            trace: match (&inner.trace, prefix.starts_with("error calling include")) {
                (Some(t), true) => {
                    let mut all = vec![entry(prefix.trim_end())];
                    all.extend(t.iter().cloned());
                    Some(all)
                }
                _ => None,
            },
            message: format!("{head}{prefix}{}", inner.message),
            location,
            own_message: inner.own_message,
        },
        Fault::Passthrough(inner) => inner,
    }
}

/// The source span of the field node `$x.A.B` (the variable and its chain, as Go prints it).
fn variable_node(name: Span, chain: Fields) -> Span {
    Span {
        start: name.start,
        end: chain.span.end,
    }
}

/// Go's `printValue`: nil prints as `<no value>`.
fn print_value(out: &mut String, v: &Value) {
    match v {
        Value::Nil => out.push_str("<no value>"),
        Value::String(s) => out.push_str(s),
        other => out.push_str(&format_v(other)),
    }
}

/// `fmt.Sprint`: spaces between operands when neither side is a string.
pub fn go_sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            let prev_str = matches!(args[i - 1], Value::String(_));
            let this_str = matches!(a, Value::String(_));
            if !prev_str && !this_str {
                out.push(' ');
            }
        }
        out.push_str(&format_v(a));
    }
    out
}

/// `fmt.Sprintln`: spaces between all operands and a newline.
pub fn go_sprintln(args: &[Value]) -> String {
    let parts: Vec<String> = args.iter().map(format_v).collect();
    format!("{}\n", parts.join(" "))
}

fn eval_args_string(args: &[Value]) -> String {
    if let [Value::String(s)] = args {
        return s.to_string();
    }
    go_sprint(args)
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            '"' => out.push_str("&#34;"),
            '\0' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[derive(PartialEq, Clone, Copy, Debug)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Float,
    String,
    Other,
}

fn basic_kind(v: &Value) -> Kind {
    match v {
        Value::Nil => Kind::Invalid,
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) | Value::Int64(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::String(_) => Kind::String,
        _ => Kind::Other,
    }
}

/// Go's `eq`: true if `a` equals any of `rest`; basic kinds must match (int vs float64 is an
/// error), nil equals only nil.
pub fn eq(a: &Value, rest: &[Value]) -> Result<bool, String> {
    let k1 = basic_kind(a);
    for b in rest {
        let k2 = basic_kind(b);
        let truth = if k1 != k2 {
            if k1 != Kind::Invalid && k2 != Kind::Invalid {
                return Err("incompatible types for comparison".into());
            }
            false
        } else {
            match (a, b) {
                (Value::Nil, Value::Nil) => true,
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Int(x) | Value::Int64(x), Value::Int(y) | Value::Int64(y)) => x == y,
                (Value::Float(x), Value::Float(y)) => x == y,
                (Value::String(x), Value::String(y)) => x == y,
                (Value::Object(_), Value::Object(_)) => a == b,
                _ => {
                    return Err(format!(
                        "non-comparable types {}: {}, {}: {}",
                        format_v(a),
                        a.type_name(),
                        b.type_name(),
                        format_v(b)
                    ))
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Go's `lt`.
pub fn lt(a: &Value, b: &Value) -> Result<bool, String> {
    let (k1, k2) = (basic_kind(a), basic_kind(b));
    if matches!(k1, Kind::Invalid | Kind::Other) || matches!(k2, Kind::Invalid | Kind::Other) {
        return Err("invalid type for comparison".into());
    }
    if k1 != k2 {
        return Err("incompatible types for comparison".into());
    }
    Ok(match (a, b) {
        (Value::Int(x) | Value::Int64(x), Value::Int(y) | Value::Int64(y)) => x < y,
        (Value::Float(x), Value::Float(y)) => x < y,
        (Value::String(x), Value::String(y)) => x < y,
        _ => return Err("invalid type for comparison".into()),
    })
}

fn le(a: &Value, b: &Value) -> Result<bool, String> {
    if lt(a, b)? {
        return Ok(true);
    }
    eq(a, std::slice::from_ref(b))
}

fn length(v: &Value) -> Result<i64, String> {
    Ok(match v {
        Value::String(s) => s.len() as i64,
        Value::Bytes(b) => b.len() as i64,
        Value::List(l) => l.len() as i64,
        Value::Map(m) => m.len() as i64,
        Value::Nil => return Err("len of nil pointer".into()),
        Value::Object(o) => match o.elements() {
            Some(e) => return length(&e),
            None => return Err(format!("len of type {}", o.type_name())),
        },
        other => return Err(format!("len of type {}", other.type_name())),
    })
}

fn index_arg(i: &Value, len: usize, cap_ok: bool) -> Result<usize, String> {
    let x = match i {
        Value::Int(x) | Value::Int64(x) => *x,
        Value::Nil => return Err("cannot index slice/array with nil".into()),
        other => {
            return Err(format!(
                "cannot index slice/array with type {}",
                other.type_name()
            ))
        }
    };
    let limit = if cap_ok { len + 1 } else { len };
    if x < 0 || x as usize >= limit {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

/// Go's `index`.
pub fn index(item: &Value, keys: &[Value]) -> Result<Value, String> {
    if item.is_nil() {
        return Err("index of untyped nil".into());
    }
    let mut cur = item.clone();
    for (n, k) in keys.iter().enumerate() {
        if cur.is_nil() && n > 0 {
            return Err("index of nil pointer".into());
        }
        cur = match &cur {
            Value::List(l) => l[index_arg(k, l.len(), false)?].clone(),
            Value::Bytes(b) => Value::Int(i64::from(b[index_arg(k, b.len(), false)?])),
            Value::String(s) => Value::Int(i64::from(s.as_bytes()[index_arg(k, s.len(), false)?])),
            Value::Map(m) => match k {
                Value::String(key) => m.get(key).unwrap_or(Value::Nil),
                Value::Nil => Value::Nil,
                other => {
                    return Err(format!(
                        "value has type {}; should be string",
                        other.type_name()
                    ))
                }
            },
            Value::Object(o) => match o.elements() {
                Some(e) => index(&e, std::slice::from_ref(k))?,
                None => return Err(format!("can't index item of type {}", o.type_name())),
            },
            other => return Err(format!("can't index item of type {}", other.type_name())),
        };
    }
    Ok(cur)
}

/// Go's `slice`.
pub fn slice(item: &Value, idx: &[Value]) -> Result<Value, String> {
    if idx.len() > 3 {
        return Err(format!("too many slice indexes: {}", idx.len()));
    }
    let len = match item {
        Value::String(s) => s.len(),
        Value::List(l) => l.len(),
        Value::Bytes(b) => b.len(),
        Value::Nil => return Err("slice of untyped nil".into()),
        other => return Err(format!("can't slice item of type {}", other.type_name())),
    };
    let mut ix = [0usize, len, len];
    for (n, i) in idx.iter().enumerate() {
        ix[n] = index_arg(i, len, true)?;
    }
    if ix[0] > ix[1] {
        return Err(format!("invalid slice index: {} > {}", ix[0], ix[1]));
    }
    Ok(match item {
        Value::String(s) => {
            if idx.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            Value::from(String::from_utf8_lossy(&s.as_bytes()[ix[0]..ix[1]]).into_owned())
        }
        Value::List(l) => Value::list(l[ix[0]..ix[1]].to_vec()),
        Value::Bytes(b) => Value::Bytes(Rc::from(&b[ix[0]..ix[1]])),
        _ => Value::Nil,
    })
}

/// A fresh dict with the given entries (used by the Helm object builders).
pub fn dict_of(entries: Vec<(&str, Value)>) -> Dict {
    let d = Dict::new();
    for (k, v) in entries {
        d.insert(k, v);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str, data: serde_json::Value) -> Result<String, String> {
        let funcs = Registry::default();
        let mut set = TemplateSet::default();
        set.parse_file(&funcs, "t", src)
            .map_err(|e| e.to_string())?;
        let mut exec = Exec::new(&set, &funcs, None);
        exec.execute("t", Value::from(&data)).map_err(|e| e.message)
    }

    fn ok(src: &str, data: serde_json::Value) -> String {
        run(src, data).unwrap()
    }

    #[test]
    fn trimming_and_comments() {
        assert_eq!(
            ok("a  {{- 1 -}}  b {{/* c */}}x", serde_json::json!({})),
            "a1b x"
        );
    }

    #[test]
    fn variables_scopes_and_assignment() {
        let src = "{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ $y := 3 }}{{ end }}{{ $x }}";
        assert_eq!(ok(src, serde_json::json!({})), "2");
        assert_eq!(
            ok(
                "{{ with .a }}{{ $.b }}{{ . }}{{ end }}",
                serde_json::json!({"a": "A", "b": "B"})
            ),
            "BA"
        );
    }

    #[test]
    fn range_forms() {
        let d = serde_json::json!({"l": ["x", "y"], "m": {"b": 2, "a": 1}, "e": []});
        assert_eq!(
            ok(
                "{{ range $i, $v := .l }}{{ $i }}={{ $v }};{{ end }}",
                d.clone()
            ),
            "0=x;1=y;"
        );
        assert_eq!(
            ok(
                "{{ range $k, $v := .m }}{{ $k }}={{ $v }};{{ end }}",
                d.clone()
            ),
            "a=1;b=2;"
        );
        assert_eq!(
            ok("{{ range .e }}x{{ else }}empty{{ end }}", d.clone()),
            "empty"
        );
        assert_eq!(ok("{{ range 3 }}{{ . }}{{ end }}", d.clone()), "012");
        assert_eq!(
            ok(
                "{{ range .l }}{{ if eq . \"y\" }}{{ break }}{{ end }}{{ . }}{{ end }}",
                d.clone()
            ),
            "x"
        );
        assert_eq!(
            ok(
                "{{ range .l }}{{ if eq . \"x\" }}{{ continue }}{{ end }}{{ . }}{{ end }}",
                d
            ),
            "y"
        );
    }

    #[test]
    fn missing_keys_and_nil_chains() {
        let d = serde_json::json!({"a": {"b": null}});
        assert_eq!(ok("[{{ .nope }}]", d.clone()), "[<no value>]");
        let err = run("{{ .nope.deeper }}", d.clone()).unwrap_err();
        assert!(
            err.contains("nil pointer evaluating interface {}.deeper"),
            "{err}"
        );
        assert!(
            err.starts_with("template: t:1:8: executing \"t\" at <.nope.deeper>"),
            "{err}"
        );
        assert_eq!(ok("{{ printf \"%v\" .a.b }}", d), "<nil>");
    }

    #[test]
    fn comparisons_follow_go() {
        let d = serde_json::json!({"f": 2.0, "s": "x"});
        assert_eq!(ok("{{ eq .s \"y\" \"x\" }}", d.clone()), "true");
        assert_eq!(
            ok(
                "{{ eq .f 2.0 }} {{ lt 1 2 }} {{ ge \"b\" \"a\" }}",
                d.clone()
            ),
            "true true true"
        );
        let err = run("{{ eq .f 2 }}", d.clone()).unwrap_err();
        assert!(err.contains("incompatible types for comparison"), "{err}");
        assert_eq!(ok("{{ eq .missing \"x\" }}", d), "false");
    }

    #[test]
    fn and_or_short_circuit_and_return_operands() {
        let d = serde_json::json!({"a": "A"});
        assert_eq!(
            ok("{{ or .x .a }}|{{ and .a 0 }}|{{ and .x .nope.deeper }}", d),
            "A|0|<no value>"
        );
    }

    #[test]
    fn define_template_and_block() {
        let src = r#"{{ define "x" }}[{{ . }}]{{ end }}{{ template "x" "a" }}{{ block "y" 1 }}<{{ . }}>{{ end }}"#;
        assert_eq!(ok(src, serde_json::json!({})), "[a]<1>");
    }

    #[test]
    fn index_slice_len_and_print() {
        let d = serde_json::json!({"l": [1, 2, 3], "m": {"k": "v"}});
        assert_eq!(
            ok(
                "{{ index .l 1 }} {{ index .m \"k\" }} {{ len .l }}",
                d.clone()
            ),
            "2 v 3"
        );
        assert_eq!(
            ok("{{ slice .l 1 }} {{ slice \"hello\" 1 3 }}", d.clone()),
            "[2 3] el"
        );
        assert_eq!(ok("{{ print 1 2 \"a\" \"b\" 3 }}", d.clone()), "1 2ab3");
        assert_eq!(ok("{{ println 1 \"a\" }}", d.clone()), "1 a\n");
        assert_eq!(ok("{{ .m }}", d), "map[k:v]");
    }

    #[test]
    fn pipelines_pass_the_last_argument() {
        assert_eq!(
            ok(
                "{{ \"a\" | printf \"%s-%s\" \"b\" }}",
                serde_json::json!({})
            ),
            "b-a"
        );
    }

    #[test]
    fn parse_errors_name_the_line() {
        let mut set = TemplateSet::default();
        let err = set
            .parse_file(&Registry::default(), "f", "ok\n{{ if }}")
            .unwrap_err();
        assert_eq!(err.line, 2);
        let err = set
            .parse_file(&Registry::default(), "f", "{{ nosuchfunc }}")
            .unwrap_err();
        assert!(err.message.contains("function \"nosuchfunc\" not defined"));
    }

    #[test]
    fn int_and_int64_compare_but_keep_their_types() {
        // Go's `eq`/`lt` compare every integer kind; `%T` tells them apart. `--set` integers
        // arrive as int64 (JSON integers), literals are int.
        let data = serde_json::json!({"n": 2});
        assert_eq!(
            ok(
                "{{ eq .n 2 }} {{ lt 1 .n }} {{ printf \"%T %T %d\" .n 2 .n }}",
                data.clone()
            ),
            "true true int64 int 2"
        );
        assert_eq!(
            ok("{{ range .n }}{{ printf \"%T\" . }}{{ end }}", data),
            "int64int64"
        );
    }
}

//! The parser: tokens into Go `text/template` parse trees (one per file plus one per `define`).
//!
//! Trees refer to their template source by byte [`Span`]s instead of owning copies of text,
//! names and field chains: parsing allocates only the tree's vectors, and a tree is `Send`, so a
//! chart's files can be parsed on several threads. The executor reads spans from the source of
//! the template it runs.

use std::borrow::Cow;

use crate::func::Func;
use crate::lex::{lex, Item, Tok};

/// A parse error with the byte offset where it happened.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub pos: usize,
    pub message: String,
}

impl ParseError {
    pub fn at(pos: usize, message: impl Into<String>) -> Self {
        ParseError {
            pos,
            message: message.into(),
        }
    }
}

/// A byte range of the template source a tree was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    /// The spanned text of `src` (empty if `src` is not the tree's source).
    pub fn text(self, src: &str) -> &str {
        src.get(self.start..self.end).unwrap_or_default()
    }
}

/// A field chain such as `.A.B` as written in the source (empty for none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fields {
    /// The chain's text including its leading dot.
    pub span: Span,
    /// How many field names it has.
    pub count: usize,
}

impl Fields {
    /// The field names in order.
    pub fn names(self, src: &str) -> impl Iterator<Item = &str> {
        self.span
            .text(src)
            .strip_prefix('.')
            .into_iter()
            .flat_map(|chain| chain.split('.'))
    }

    pub fn is_empty(self) -> bool {
        self.count == 0
    }
}

/// A function an identifier names, resolved at parse time (Go rejects unknown functions then).
#[derive(Debug, Clone, Copy)]
pub struct Callee {
    /// The function's name.
    pub name: &'static str,
    /// The registry function, or `None` for the executor's own builtins (`include`, `and`, ...).
    pub func: Option<Func>,
}

/// A list of nodes (a template body or a branch).
pub type List = Vec<Node>;

/// One node of a template body.
#[derive(Debug, Clone)]
pub enum Node {
    Text(Span),
    /// `{{ pipeline }}`: printed unless it declares variables.
    Action(Pipe),
    If(Branch),
    With(Branch),
    Range(Branch),
    /// `{{ template "name" pipeline }}`.
    Template {
        pos: usize,
        name: Box<str>,
        pipe: Option<Pipe>,
    },
    Break(usize),
    Continue(usize),
}

/// `if`/`with`/`range`: the pipeline, the body and the optional `else` list.
#[derive(Debug, Clone)]
pub struct Branch {
    pub pos: usize,
    pub pipe: Pipe,
    pub list: List,
    pub else_list: Option<List>,
}

/// A pipeline with optional variable declarations (`$x := ...` or `$x = ...`).
#[derive(Debug, Clone)]
pub struct Pipe {
    pub pos: usize,
    /// The declared variables' names (`$x`).
    pub decl: Vec<Span>,
    /// `=` rather than `:=`.
    pub is_assign: bool,
    pub cmds: Vec<Command>,
}

/// One command of a pipeline: operands, the first of which may be a function name.
#[derive(Debug, Clone)]
pub struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
    /// Source text of the command, for error messages (`at <...>`).
    pub text: Span,
}

/// A string constant.
#[derive(Debug, Clone)]
pub enum Literal {
    /// Written without escapes: the text between the quotes.
    Source(Span),
    /// Unescaped from a literal with escapes.
    Unescaped(Box<str>),
}

impl Literal {
    /// The constant's value.
    pub fn text<'a>(&'a self, src: &'a str) -> &'a str {
        match self {
            Literal::Source(span) => span.text(src),
            Literal::Unescaped(s) => s,
        }
    }
}

/// An operand.
#[derive(Debug, Clone)]
pub enum Arg {
    /// `.A.B` (an empty chain is `.`).
    Field(usize, Fields),
    /// `$x.A.B`: the variable's name and the chain.
    Variable(usize, Span, Fields),
    Dot(usize),
    Nil(usize),
    Bool(bool),
    /// A number literal, with its text for Go's int/float rules.
    Number(usize, Number),
    Str(Literal),
    /// A function name.
    Func(usize, Callee),
    /// `(pipeline)` with an optional field chain after it.
    Chain(usize, Box<Pipe>, Fields),
}

/// A number constant: integer literals are Go `int`s, others `float64`.
#[derive(Debug, Clone, Copy)]
pub enum Number {
    Int(i64),
    Float(f64),
}

/// A parsed file: its own body plus the templates it defines.
pub struct Parsed {
    pub root: List,
    pub defines: Vec<(String, List)>,
}

/// Whether a body has nothing but whitespace text (Go's `IsEmptyTree`): such a `define` does not
/// replace an existing definition. `src` is the source the body was parsed from.
pub fn is_empty_tree(list: &List, src: &str) -> bool {
    list.iter().all(|n| match n {
        Node::Text(t) => t.text(src).trim().is_empty(),
        _ => false,
    })
}

/// Resolves a function name, or `None` for an unknown function.
pub type ResolveFunc<'f> = &'f dyn Fn(&str) -> Option<Callee>;

struct Parser<'s, 't> {
    src: &'s str,
    items: &'t [Item<'s>],
    i: usize,
    defines: Vec<(String, List)>,
    /// Variables in scope, for Go's "undefined variable" check.
    vars: Vec<&'s str>,
    range_depth: usize,
    funcs: ResolveFunc<'t>,
}

/// Parses a template source. `funcs` resolves function names (Go rejects unknown functions at
/// parse time).
pub fn parse(src: &str, funcs: ResolveFunc<'_>) -> Result<Parsed, ParseError> {
    let items = lex(src)?;
    let mut p = Parser {
        src,
        items: &items,
        i: 0,
        defines: Vec::new(),
        vars: vec!["$"],
        range_depth: 0,
        funcs,
    };
    let (root, end) = p.parse_list(true)?;
    if let Some(kw) = end {
        return Err(ParseError::at(p.pos(), format!("unexpected {{{{{kw}}}}}")));
    }
    Ok(Parsed {
        root,
        defines: p.defines,
    })
}

impl<'s, 't> Parser<'s, 't> {
    fn item(&self) -> &'t Item<'s> {
        let items = self.items;
        &items[self.i.min(items.len() - 1)]
    }

    fn peek(&self) -> &'t Tok<'s> {
        &self.item().tok
    }

    fn pos(&self) -> usize {
        self.item().pos
    }

    fn next(&mut self) -> &'t Item<'s> {
        let item = self.item();
        if self.i < self.items.len() {
            self.i += 1;
        }
        item
    }

    /// Peeks past spaces.
    fn peek_non_space(&mut self) -> &'t Tok<'s> {
        while matches!(self.peek(), Tok::Space) {
            self.i += 1;
        }
        self.peek()
    }

    fn next_non_space(&mut self) -> &'t Item<'s> {
        self.peek_non_space();
        self.next()
    }

    /// The span of `text`, a slice of the source.
    fn span_of(&self, text: &str) -> Span {
        let start = (text.as_ptr() as usize).saturating_sub(self.src.as_ptr() as usize);
        Span {
            start,
            end: start + text.len(),
        }
    }

    fn expect_right_delim(&mut self, context: &str) -> Result<(), ParseError> {
        let item = self.next_non_space();
        if item.tok != Tok::RightDelim {
            return Err(ParseError::at(
                item.pos,
                format!("unexpected {:?} in {context}", item.tok),
            ));
        }
        Ok(())
    }

    /// Parses nodes until EOF (top level) or an `{{end}}`/`{{else ...}}`; returns the keyword
    /// that stopped it (`end` or `else`), leaving `else`'s remainder unread.
    fn parse_list(&mut self, top: bool) -> Result<(List, Option<&'static str>), ParseError> {
        let mut list = Vec::new();
        loop {
            match self.peek() {
                Tok::Eof => {
                    if !top {
                        return Err(ParseError::at(self.pos(), "unexpected EOF"));
                    }
                    return Ok((list, None));
                }
                Tok::Text(t) => {
                    self.next();
                    list.push(Node::Text(self.span_of(t)));
                }
                Tok::LeftDelim => {
                    self.next();
                    let start = self.i;
                    let item = self.next_non_space();
                    let keyword = match item.tok {
                        Tok::Ident(kw) => kw,
                        _ => "",
                    };
                    match keyword {
                        "end" => {
                            self.expect_right_delim("end")?;
                            if top {
                                return Err(ParseError::at(item.pos, "unexpected {{end}}"));
                            }
                            return Ok((list, Some("end")));
                        }
                        "else" => {
                            if top {
                                return Err(ParseError::at(item.pos, "unexpected {{else}}"));
                            }
                            return Ok((list, Some("else")));
                        }
                        "if" => list.push(Node::If(self.parse_branch(item.pos, "if")?)),
                        "with" => list.push(Node::With(self.parse_branch(item.pos, "with")?)),
                        "range" => {
                            self.range_depth += 1;
                            let b = self.parse_branch(item.pos, "range");
                            self.range_depth -= 1;
                            list.push(Node::Range(b?));
                        }
                        "define" => self.parse_define(item.pos)?,
                        "block" => {
                            let node = self.parse_template(item.pos, true)?;
                            list.push(node);
                        }
                        "template" => list.push(self.parse_template(item.pos, false)?),
                        "break" | "continue" => {
                            if self.range_depth == 0 {
                                return Err(ParseError::at(
                                    item.pos,
                                    format!("{{{{{keyword}}}}} outside {{{{range}}}}"),
                                ));
                            }
                            self.expect_right_delim(keyword)?;
                            list.push(if keyword == "break" {
                                Node::Break(item.pos)
                            } else {
                                Node::Continue(item.pos)
                            });
                        }
                        _ => {
                            self.i = start;
                            let pipe = self.parse_pipeline("command", true)?;
                            list.push(Node::Action(pipe));
                        }
                    }
                }
                other => return Err(ParseError::at(self.pos(), format!("unexpected {other:?}"))),
            }
        }
    }

    /// `if`/`with`/`range` after the keyword, through its `{{end}}` (an `else if`/`else with`
    /// chain becomes a nested branch in the else list, as in Go).
    fn parse_branch(&mut self, pos: usize, kind: &str) -> Result<Branch, ParseError> {
        let mark = self.vars.len();
        let pipe = self.parse_pipeline(kind, kind == "range")?;
        let (list, end) = self.parse_list(false)?;
        let mut else_list = None;
        if end == Some("else") {
            // `{{else}}` or `{{else if ...}}` / `{{else with ...}}`.
            let save = self.i;
            let item = self.next_non_space();
            match item.tok {
                Tok::Ident(k) if (k == "if" && kind == "if") || (k == "with" && kind == "with") => {
                    // The nested branch consumes the shared {{end}}.
                    let nested = self.parse_branch(item.pos, k)?;
                    else_list = Some(vec![if k == "if" {
                        Node::If(nested)
                    } else {
                        Node::With(nested)
                    }]);
                    self.vars.truncate(mark);
                    return Ok(Branch {
                        pos,
                        pipe,
                        list,
                        else_list,
                    });
                }
                _ => {
                    self.i = save;
                    self.expect_right_delim("else")?;
                    let (elist, end2) = self.parse_list(false)?;
                    if end2 != Some("end") {
                        return Err(ParseError::at(self.pos(), "expected end; found else"));
                    }
                    else_list = Some(elist);
                }
            }
        }
        self.vars.truncate(mark);
        Ok(Branch {
            pos,
            pipe,
            list,
            else_list,
        })
    }

    fn parse_define(&mut self, pos: usize) -> Result<(), ParseError> {
        let item = self.next_non_space();
        let Tok::Str(name) = &item.tok else {
            return Err(ParseError::at(item.pos, "name of define must be a string"));
        };
        self.expect_right_delim("define clause")?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$"]);
        let (body, end) = self.parse_list(false)?;
        self.vars = saved_vars;
        if end != Some("end") {
            return Err(ParseError::at(pos, "unexpected {{else}} in define"));
        }
        self.defines.push((name.to_string(), body));
        Ok(())
    }

    fn parse_template(&mut self, pos: usize, is_block: bool) -> Result<Node, ParseError> {
        let item = self.next_non_space();
        let name = match &item.tok {
            Tok::Str(s) => s,
            _ => {
                return Err(ParseError::at(
                    item.pos,
                    "unexpected token in template clause",
                ))
            }
        };
        let pipe = if *self.peek_non_space() == Tok::RightDelim {
            self.next();
            None
        } else {
            Some(self.parse_pipeline("template clause", false)?)
        };
        if is_block {
            let saved_vars = std::mem::replace(&mut self.vars, vec!["$"]);
            let (body, end) = self.parse_list(false)?;
            self.vars = saved_vars;
            if end != Some("end") {
                return Err(ParseError::at(pos, "unexpected {{else}} in block"));
            }
            self.defines.push((name.to_string(), body));
        }
        Ok(Node::Template {
            pos,
            name: Box::from(&**name),
            pipe,
        })
    }

    /// Parses a pipeline up to the closing `}}` (consumed) or `)` (not consumed).
    fn parse_pipeline(&mut self, context: &str, allow_two_vars: bool) -> Result<Pipe, ParseError> {
        let pos = self.pos();
        let mut decl: Vec<&'s str> = Vec::new();
        let mut is_assign = false;
        // Declarations: `$x :=`, `$x =`, `$i, $v :=`.
        let save = self.i;
        if let Tok::Variable(v) = *self.peek_non_space() {
            self.next();
            match self.peek_non_space() {
                Tok::Declare | Tok::Assign => {
                    is_assign = *self.peek() == Tok::Assign;
                    self.next();
                    decl.push(v);
                }
                Tok::Comma if allow_two_vars => {
                    self.next();
                    if let Tok::Variable(v2) = *self.peek_non_space() {
                        self.next();
                        match self.peek_non_space() {
                            Tok::Declare | Tok::Assign => {
                                is_assign = *self.peek() == Tok::Assign;
                                self.next();
                                decl.push(v);
                                decl.push(v2);
                            }
                            _ => return Err(ParseError::at(self.pos(), "expected := or =")),
                        }
                    } else {
                        return Err(ParseError::at(self.pos(), "too many declarations"));
                    }
                }
                _ => self.i = save,
            }
        }
        if is_assign {
            for v in &decl {
                if !self.vars.contains(v) {
                    return Err(ParseError::at(pos, format!("undefined variable \"{v}\"")));
                }
            }
        }
        let mut cmds = Vec::new();
        loop {
            match self.peek_non_space() {
                Tok::RightDelim => {
                    self.next();
                    break;
                }
                Tok::RightParen => break,
                Tok::Eof => return Err(ParseError::at(self.pos(), format!("unclosed {context}"))),
                _ => {
                    let cmd = self.parse_command()?;
                    cmds.push(cmd);
                    match self.peek_non_space() {
                        Tok::Pipe => {
                            self.next();
                        }
                        Tok::RightDelim | Tok::RightParen => {}
                        other => {
                            return Err(ParseError::at(
                                self.pos(),
                                format!("unexpected {other:?} in operand"),
                            ))
                        }
                    }
                }
            }
        }
        if cmds.is_empty() {
            return Err(ParseError::at(pos, format!("missing value for {context}")));
        }
        if !is_assign {
            self.vars.extend_from_slice(&decl);
        }
        Ok(Pipe {
            pos,
            decl: decl.iter().map(|v| self.span_of(v)).collect(),
            is_assign,
            cmds,
        })
    }

    fn parse_command(&mut self) -> Result<Command, ParseError> {
        let pos = self.pos();
        let mut args = Vec::new();
        loop {
            match self.peek_non_space() {
                Tok::RightDelim | Tok::RightParen | Tok::Pipe => break,
                _ => {}
            }
            let arg = self.parse_operand()?;
            args.push(arg);
            // Operands must be separated by spaces.
            match self.peek() {
                Tok::Space => {}
                Tok::RightDelim | Tok::RightParen | Tok::Pipe => {}
                other => {
                    return Err(ParseError::at(
                        self.pos(),
                        format!("unexpected {other:?} in operand"),
                    ))
                }
            }
        }
        let end = self.pos();
        let text = self.src.get(pos..end).unwrap_or_default();
        let lead = text.len() - text.trim_start().len();
        let start = pos + lead;
        Ok(Command {
            pos,
            args,
            text: Span {
                start,
                end: start + text.trim().len(),
            },
        })
    }

    /// Reads `.A.B` continuations directly attached to the previous token.
    fn field_chain(&mut self) -> Fields {
        let start = self.pos();
        let mut chain = Fields {
            span: Span { start, end: start },
            count: 0,
        };
        while let Tok::Field(f) = self.peek() {
            let item = self.next();
            chain.span.end = item.pos + 1 + f.len();
            chain.count += 1;
        }
        chain
    }

    fn parse_operand(&mut self) -> Result<Arg, ParseError> {
        let item = self.next();
        let pos = item.pos;
        let arg = match &item.tok {
            Tok::Field(f) => {
                // Go positions a chained field at its second segment.
                let chained_pos = self.pos();
                let rest = self.field_chain();
                let chain = Fields {
                    span: Span {
                        start: pos,
                        end: if rest.is_empty() {
                            pos + 1 + f.len()
                        } else {
                            rest.span.end
                        },
                    },
                    count: 1 + rest.count,
                };
                Arg::Field(if chain.count > 1 { chained_pos } else { pos }, chain)
            }
            Tok::Dot => Arg::Dot(pos),
            Tok::Variable(v) => {
                if !self.vars.contains(v) {
                    return Err(ParseError::at(pos, format!("undefined variable \"{v}\"")));
                }
                let chained_pos = self.pos();
                let chain = self.field_chain();
                Arg::Variable(
                    if chain.is_empty() { pos } else { chained_pos },
                    self.span_of(v),
                    chain,
                )
            }
            Tok::Nil => Arg::Nil(pos),
            Tok::Bool(b) => Arg::Bool(*b),
            Tok::Str(s) => Arg::Str(match s {
                Cow::Borrowed(text) => Literal::Source(self.span_of(text)),
                Cow::Owned(text) => Literal::Unescaped(Box::from(text.as_str())),
            }),
            Tok::Char(c) => Arg::Number(pos, Number::Int(*c)),
            Tok::Number(n) => Arg::Number(pos, parse_number(n, pos)?),
            Tok::Ident(name) => match (self.funcs)(name) {
                Some(callee) => Arg::Func(pos, callee),
                None => {
                    return Err(ParseError::at(
                        pos,
                        format!("function \"{name}\" not defined"),
                    ))
                }
            },
            Tok::LeftParen => {
                let pipe = self.parse_pipeline("parenthesized pipeline", false)?;
                let close = self.next();
                if close.tok != Tok::RightParen {
                    return Err(ParseError::at(close.pos, "unclosed left paren"));
                }
                let chain = self.field_chain();
                Arg::Chain(pos, Box::new(pipe), chain)
            }
            other => {
                return Err(ParseError::at(
                    pos,
                    format!("unexpected {other:?} in operand"),
                ))
            }
        };
        Ok(arg)
    }
}

/// Go's number literal rules: integers (decimal, hex, octal, binary, `_` separators) are `int`;
/// anything with a fraction or exponent is `float64`.
fn parse_number(text: &str, pos: usize) -> Result<Number, ParseError> {
    let clean: Cow<'_, str> = if text.contains('_') {
        Cow::Owned(text.replace('_', ""))
    } else {
        Cow::Borrowed(text)
    };
    if let Some(i) = crate::cast::parse_go_int(&clean) {
        return Ok(Number::Int(i));
    }
    let lower = clean.to_ascii_lowercase();
    let is_hex = lower.trim_start_matches(['+', '-']).starts_with("0x");
    if is_hex {
        if let Some(f) = parse_hex_float(&lower) {
            return Ok(Number::Float(f));
        }
    } else {
        if let Ok(f) = clean.parse::<f64>() {
            // A float literal with an integral value is still a float64 constant in an
            // interface{} argument only if written as a float (`1.0`); Go keeps `1e3` as float.
            return Ok(Number::Float(f));
        }
    }
    Err(ParseError::at(pos, format!("bad number syntax: {text:?}")))
}

/// A Go hexadecimal float literal such as `0x1p60` or `-0x1.8p-3`.
fn parse_hex_float(lower: &str) -> Option<f64> {
    let (neg, body) = match lower.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, lower.strip_prefix('+').unwrap_or(lower)),
    };
    let body = body.strip_prefix("0x")?;
    let (mantissa, exp) = body.split_once('p')?;
    let exp: i32 = exp.parse().ok()?;
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut value = 0f64;
    for c in int_part.chars() {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac_part.chars() {
        value += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    let v = value * 2f64.powi(exp);
    Some(if neg { -v } else { v })
}

/// Collects all templates of one source into `(name, body)` pairs: the file itself first, then
/// its `define`s in order.
pub fn parse_file(
    name: &str,
    src: &str,
    funcs: ResolveFunc<'_>,
) -> Result<Vec<(String, List)>, ParseError> {
    let parsed = parse(src, funcs)?;
    let mut out = Vec::with_capacity(parsed.defines.len() + 1);
    out.push((name.to_string(), parsed.root));
    out.extend(parsed.defines);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(name: &str) -> Option<Callee> {
        ["printf", "include", "default", "eq"]
            .into_iter()
            .find(|n| *n == name)
            .map(|name| Callee { name, func: None })
    }

    fn p(src: &str) -> Parsed {
        parse(src, &known).unwrap()
    }

    #[test]
    fn parses_branches_and_defines() {
        let parsed =
            p(r#"{{ define "a" }}x{{ end }}{{ if .A }}1{{ else if .B }}2{{ else }}3{{ end }}"#);
        assert_eq!(parsed.defines.len(), 1);
        assert_eq!(parsed.root.len(), 1);
        let Node::If(b) = &parsed.root[0] else {
            panic!("not an if")
        };
        assert!(matches!(b.else_list.as_deref(), Some([Node::If(_)])));
    }

    #[test]
    fn rejects_unknown_functions_and_variables() {
        assert!(parse("{{ nope 1 }}", &|_| None).is_err());
        assert!(parse("{{ $x }}", &|_| None).is_err());
        assert!(parse("{{ $x := 1 }}{{ $x = 2 }}", &|_| None).is_ok());
    }

    #[test]
    fn trees_refer_to_their_source_by_spans() {
        let src = "a {{- $x := .Values.b }} {{ $x.c.d | printf \"%s\\n\" `raw` }}";
        let parsed = p(src);
        let [Node::Text(text), Node::Action(decl), Node::Text(_), Node::Action(use_)] =
            parsed.root.as_slice()
        else {
            panic!("unexpected shape: {:?}", parsed.root)
        };
        assert_eq!(text.text(src), "a");
        assert_eq!(decl.decl[0].text(src), "$x");
        let Arg::Field(_, fields) = &decl.cmds[0].args[0] else {
            panic!("not a field")
        };
        assert_eq!(fields.span.text(src), ".Values.b");
        assert_eq!(fields.names(src).collect::<Vec<_>>(), ["Values", "b"]);
        let Arg::Variable(_, name, chain) = &use_.cmds[0].args[0] else {
            panic!("not a variable")
        };
        assert_eq!((name.text(src), chain.count), ("$x", 2));
        assert_eq!(chain.names(src).collect::<Vec<_>>(), ["c", "d"]);
        assert_eq!(use_.cmds[0].text.text(src), "$x.c.d");
        let second = &use_.cmds[1];
        assert_eq!(second.text.text(src), "printf \"%s\\n\" `raw`");
        assert!(matches!(
            second.args[0],
            Arg::Func(_, Callee { name: "printf", .. })
        ));
        let literals: Vec<&str> = second.args[1..]
            .iter()
            .map(|a| match a {
                Arg::Str(l) => l.text(src),
                _ => panic!("not a string"),
            })
            .collect();
        assert_eq!(literals, ["%s\n", "raw"]);
        assert!(matches!(second.args[1], Arg::Str(Literal::Unescaped(_))));
        assert!(matches!(second.args[2], Arg::Str(Literal::Source(_))));
    }

    #[test]
    fn number_literals_follow_go() {
        assert!(matches!(parse_number("42", 0), Ok(Number::Int(42))));
        assert!(matches!(parse_number("0x1F", 0), Ok(Number::Int(31))));
        assert!(matches!(parse_number("1.5", 0), Ok(Number::Float(f)) if f == 1.5));
        assert!(matches!(parse_number("1e3", 0), Ok(Number::Float(_))));
        assert!(matches!(parse_number("0x1p60", 0), Ok(Number::Float(f)) if f == 2f64.powi(60)));
    }
}

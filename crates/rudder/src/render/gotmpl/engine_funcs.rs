//! Helm's functions that need the executor (`pkg/engine/engine.go`'s `include`, `tpl`,
//! `required`, `fail`, `lookup`), and the whole function map a chart's templates see: Sprig's,
//! Helm's data functions and these.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::OnceLock;

use gotmpl::cast;
use gotmpl::exec::{Exec, Host, HostError};
use gotmpl::fmt::go_quote;
use gotmpl::{Registry, Value};

use crate::render::Lookup;

/// Helm's limit on nested `include`s of one template name.
const MAX_INCLUDE_DEPTH: usize = 1000;
/// How deeply `tpl` calls may nest. Go has no such limit (a `tpl` that renders itself grows
/// Helm's goroutine stack until the runtime aborts); each level here costs a parse and an
/// execution frame, so an explicit bound turns the same chart into an error instead.
const MAX_TPL_DEPTH: usize = 1000;

/// The functions a chart's templates can call: Sprig's, Helm's data functions and Helm's
/// engine functions, built once.
pub fn helm_registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut r = sprig::registry().clone();
        super::data::register(&mut r);
        for name in [
            "include",
            "tpl",
            "required",
            "fail",
            "lookup",
            // Sprig's, but called here so that a wrong argument count reads as Go's executor
            // prints it (`wrong number of args for getHostByName: want 1 got 2`).
            "getHostByName",
        ] {
            r.add_host(name);
        }
        r
    })
}

/// Helm's engine functions for one render: the live lookups (none offline) and the counters
/// that stop runaway recursion.
pub struct HelmFuncs<'a> {
    lookup: Option<&'a dyn Lookup>,
    include_counts: RefCell<HashMap<String, usize>>,
    tpl_depth: Cell<usize>,
}

impl<'a> HelmFuncs<'a> {
    /// Helm's functions, `lookup` answered by `lookup` (an empty map when `None`, as `helm
    /// template` does).
    pub fn new(lookup: Option<&'a dyn Lookup>) -> Self {
        HelmFuncs {
            lookup,
            include_counts: RefCell::new(HashMap::new()),
            tpl_depth: Cell::new(0),
        }
    }

    /// Helm's `include`: executes the named template with `data` and returns its output.
    fn include(&self, exec: &mut Exec<'_>, args: &[Value]) -> Result<Value, HostError> {
        want("include", args, 2)?;
        let tname = cast::str_param(&args[0]);
        {
            let mut counts = self.include_counts.borrow_mut();
            let count = counts.entry(tname.clone()).or_insert(0);
            if *count > MAX_INCLUDE_DEPTH {
                return Err(HostError::Msg(format!(
                    "error calling include: rendering template has a nested reference name: {tname}: unable to execute template"
                )));
            }
            *count += 1;
        }
        let r = exec.execute(&tname, args[1].clone());
        if let Some(c) = self.include_counts.borrow_mut().get_mut(&tname) {
            *c -= 1;
        }
        r.map(Value::from)
            .map_err(|e| HostError::Nested(e, "error calling include: ".into()))
    }

    /// Helm's `tpl`: parses `text` as a template in a copy of the current set (its `define`s
    /// are visible only to it) and executes it with `data`; `<no value>` is removed.
    fn tpl(&self, exec: &mut Exec<'_>, args: &[Value]) -> Result<Value, HostError> {
        want("tpl", args, 2)?;
        let text = cast::str_param(&args[0]);
        let parsed = exec.parse_text("gotpl", &text).map_err(|e| {
            HostError::Msg(format!(
                "error calling tpl: cannot parse template {}: template: gotpl:{}: {}",
                go_quote(&text),
                e.line,
                e.message
            ))
        })?;
        if self.tpl_depth.get() >= MAX_TPL_DEPTH {
            return Err(HostError::Msg(format!(
                "error calling tpl: tpl calls nested more than {MAX_TPL_DEPTH} deep (does a tpl string render itself?)"
            )));
        }
        self.tpl_depth.set(self.tpl_depth.get() + 1);
        let r = exec.execute_text(parsed, args[1].clone());
        self.tpl_depth.set(self.tpl_depth.get() - 1);
        match r {
            Ok(out) => Ok(Value::from(out.replace("<no value>", ""))),
            Err(e) => Err(HostError::Nested(
                e,
                format!(
                    "error calling tpl: error during tpl function execution for {}: ",
                    go_quote(&text)
                ),
            )),
        }
    }
}

impl Host for HelmFuncs<'_> {
    fn call(&self, exec: &mut Exec<'_>, name: &str, args: &[Value]) -> Result<Value, HostError> {
        match name {
            "include" => self.include(exec, args),
            "tpl" => self.tpl(exec, args),
            "required" => {
                want(name, args, 2)?;
                let missing = match &args[1] {
                    Value::Nil => true,
                    Value::String(s) => s.is_empty(),
                    _ => false,
                };
                if missing {
                    return Err(HostError::Own(cast::str_param(&args[0])));
                }
                Ok(args[1].clone())
            }
            "fail" => {
                want(name, args, 1)?;
                Err(HostError::Own(cast::str_param(&args[0])))
            }
            "lookup" => {
                want(name, args, 4)?;
                let Some(lookup) = self.lookup else {
                    return Ok(Value::empty_map());
                };
                let s: Vec<String> = args.iter().map(cast::str_param).collect();
                lookup
                    .lookup(&s[0], &s[1], &s[2], &s[3])
                    .map(|j| Value::from(&j))
                    .map_err(|e| HostError::Msg(format!("error calling {name}: {e}")))
            }
            "getHostByName" => {
                want(name, args, 1)?;
                Ok(sprig::network::get_host_by_name(&args[0]))
            }
            other => Err(HostError::Msg(format!("function \"{other}\" not defined"))),
        }
    }
}

/// Go's executor's arity check and message (no `error calling` prefix).
fn want(name: &str, args: &[Value], n: usize) -> Result<(), HostError> {
    if args.len() != n {
        return Err(HostError::Msg(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        )));
    }
    Ok(())
}

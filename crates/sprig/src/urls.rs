//! Sprig's `urlParse` and `urlJoin` over a port of the parts of Go's `net/url` they use:
//! splitting, percent-decoding of path and fragment, and `URL.String`'s re-escaping.
//! (`urlquery` is a Go template builtin, implemented by the executor.)

use super::cast::str_param;
use super::{arity, FuncError, Registry};
use gotmpl::value::{Dict, Value};

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Path,
    Host,
    UserPassword,
    Fragment,
}

/// Go's `shouldEscape`.
fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if mode == Mode::Host && b"!$&'()*+,;=:[]<>\"".contains(&c) {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => return false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => {
            return match mode {
                Mode::Path => c == b'?',
                Mode::UserPassword => matches!(c, b'@' | b'/' | b'?' | b':'),
                Mode::Fragment => false,
                Mode::Host => true,
            }
        }
        _ => {}
    }
    if mode == Mode::Fragment && matches!(c, b'!' | b'(' | b')' | b'*') {
        return false;
    }
    true
}

/// Go's `escape`.
fn escape(s: &str, mode: Mode) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if should_escape(b, mode) && !(mode == Mode::Host && b >= 0x80) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(char::from(b));
        }
    }
    // Bytes >= 0x80 kept in a host are UTF-8 sequences copied whole; rebuild the text.
    if mode == Mode::Host && !s.is_ascii() {
        let mut bytes = Vec::with_capacity(s.len());
        for &b in s.as_bytes() {
            if should_escape(b, mode) && b < 0x80 {
                bytes.extend(format!("%{b:02X}").bytes());
            } else {
                bytes.push(b);
            }
        }
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    out
}

/// Go's `unescape` (not in query mode, so `+` stays `+`).
fn unescape(s: &str, mode: Mode) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()));
                let Some(hex) = hex else {
                    let bad: String = s[i..].chars().take(3).collect();
                    return Err(format!(
                        "invalid URL escape {}",
                        gotmpl::fmt::go_quote(&bad)
                    ));
                };
                out.push(u8::from_str_radix(hex, 16).unwrap_or(0));
                i += 3;
            }
            c => {
                if mode == Mode::Host && c < 0x80 && should_escape(c, mode) {
                    return Err(format!(
                        "invalid character {} in host name",
                        gotmpl::fmt::go_quote(&char::from(c).to_string())
                    ));
                }
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The parts of a Go `url.URL` that Sprig reads and writes.
#[derive(Default, Debug, PartialEq)]
struct Url {
    scheme: String,
    opaque: String,
    /// `(username, password)`; `None` when the URL has no `@`.
    user: Option<(String, Option<String>)>,
    host: String,
    path: String,
    raw_query: String,
    force_query: bool,
    fragment: String,
    omit_host: bool,
}

/// Go's `getScheme`.
fn split_scheme(raw: &str) -> Result<(&str, &str), String> {
    for (i, c) in raw.char_indices() {
        match c {
            'a'..='z' | 'A'..='Z' => {}
            '0'..='9' | '+' | '-' | '.' if i > 0 => {}
            '0'..='9' | '+' | '-' | '.' => return Ok(("", raw)),
            ':' if i == 0 => return Err("missing protocol scheme".into()),
            ':' => return Ok((&raw[..i], &raw[i + 1..])),
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

impl Url {
    /// Go's `url.Parse`.
    fn parse(raw: &str) -> Result<Url, String> {
        let (u, frag) = raw.split_once('#').unwrap_or((raw, ""));
        let wrap = |e: String, what: &str| format!("parse {}: {e}", gotmpl::fmt::go_quote(what));
        let mut url = Url::parse_without_fragment(u).map_err(|e| wrap(e, u))?;
        if !frag.is_empty() {
            url.fragment = unescape(frag, Mode::Fragment).map_err(|e| wrap(e, raw))?;
        }
        Ok(url)
    }

    fn parse_without_fragment(raw: &str) -> Result<Url, String> {
        if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err("net/url: invalid control character in URL".into());
        }
        let mut url = Url::default();
        if raw == "*" {
            url.path = "*".into();
            return Ok(url);
        }
        let (scheme, rest) = split_scheme(raw)?;
        url.scheme = scheme.to_ascii_lowercase();
        let mut rest = rest.to_string();
        if rest.ends_with('?') && rest.matches('?').count() == 1 {
            url.force_query = true;
            rest.pop();
        } else if let Some((before, query)) = rest.clone().split_once('?') {
            url.raw_query = query.to_string();
            rest = before.to_string();
        }
        if !rest.starts_with('/') {
            if !url.scheme.is_empty() {
                url.opaque = rest;
                return Ok(url);
            }
            if rest.split('/').next().is_some_and(|seg| seg.contains(':')) {
                return Err("first path segment in URL cannot contain colon".into());
            }
        }
        if (!url.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
            let authority_and_path = rest[2..].to_string();
            let (authority, path) = match authority_and_path.find('/') {
                Some(i) => (
                    authority_and_path[..i].to_string(),
                    authority_and_path[i..].to_string(),
                ),
                None => (authority_and_path, String::new()),
            };
            let (userinfo, host) = match authority.rfind('@') {
                Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
                None => (None, authority.as_str()),
            };
            url.host = unescape(host, Mode::Host)?;
            if let Some(userinfo) = userinfo {
                let valid = userinfo
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&c));
                if !valid {
                    return Err("net/url: invalid userinfo".into());
                }
                let (name, password) = match userinfo.split_once(':') {
                    Some((n, p)) => (n, Some(p)),
                    None => (userinfo, None),
                };
                url.user = Some((
                    unescape(name, Mode::UserPassword)?,
                    password
                        .map(|p| unescape(p, Mode::UserPassword))
                        .transpose()?,
                ));
            }
            rest = path;
        } else if !url.scheme.is_empty() && rest.starts_with('/') {
            url.omit_host = true;
        }
        url.path = unescape(&rest, Mode::Path)?;
        Ok(url)
    }

    /// Go's `Userinfo.String`.
    fn userinfo(&self) -> String {
        match &self.user {
            None => String::new(),
            Some((name, password)) => {
                let mut s = escape(name, Mode::UserPassword);
                if let Some(p) = password {
                    s.push(':');
                    s.push_str(&escape(p, Mode::UserPassword));
                }
                s
            }
        }
    }

    /// Go's `url.Hostname`: the host without port or IPv6 brackets.
    fn hostname(&self) -> String {
        let host = self.host.as_str();
        if let Some(rest) = host.strip_prefix('[') {
            return rest.split(']').next().unwrap_or("").to_string();
        }
        match host.rfind(':') {
            Some(i) if host[i + 1..].bytes().all(|b| b.is_ascii_digit()) => host[..i].to_string(),
            _ => host.to_string(),
        }
    }

    /// Go's `URL.String`.
    fn to_go_string(&self) -> String {
        let mut out = String::new();
        if !self.scheme.is_empty() {
            out.push_str(&self.scheme);
            out.push(':');
        }
        if !self.opaque.is_empty() {
            out.push_str(&self.opaque);
        } else {
            let has_authority =
                !self.scheme.is_empty() || !self.host.is_empty() || self.user.is_some();
            let omitted = self.omit_host && self.host.is_empty() && self.user.is_none();
            if has_authority && !omitted {
                if !self.host.is_empty() || !self.path.is_empty() || self.user.is_some() {
                    out.push_str("//");
                }
                if self.user.is_some() {
                    out.push_str(&self.userinfo());
                    out.push('@');
                }
                if !self.host.is_empty() {
                    out.push_str(&escape(&self.host, Mode::Host));
                }
            }
            let path = if self.path == "*" {
                "*".to_string()
            } else {
                escape(&self.path, Mode::Path)
            };
            if !path.is_empty() && !path.starts_with('/') && !self.host.is_empty() {
                out.push('/');
            }
            if out.is_empty() && path.split('/').next().is_some_and(|s| s.contains(':')) {
                out.push_str("./");
            }
            out.push_str(&path);
        }
        if self.force_query || !self.raw_query.is_empty() {
            out.push('?');
            out.push_str(&self.raw_query);
        }
        if !self.fragment.is_empty() {
            out.push('#');
            out.push_str(&escape(&self.fragment, Mode::Fragment));
        }
        out
    }
}

/// `urlParse URL`: a dict of `scheme host hostname path query opaque fragment userinfo`.
fn url_parse(args: &[Value]) -> Result<Value, FuncError> {
    arity("urlParse", args, 1)?;
    let url = Url::parse(&str_param(&args[0]))
        .map_err(|e| FuncError::new(format!("unable to parse url: {e}")))?;
    let d = Dict::new();
    d.insert("scheme", Value::from(url.scheme.clone()));
    d.insert("host", Value::from(url.host.clone()));
    d.insert("hostname", Value::from(url.hostname()));
    d.insert("path", Value::from(url.path.clone()));
    d.insert("query", Value::from(url.raw_query.clone()));
    d.insert("opaque", Value::from(url.opaque.clone()));
    d.insert("fragment", Value::from(url.fragment.clone()));
    d.insert("userinfo", Value::from(url.userinfo()));
    Ok(Value::Map(d))
}

/// `urlJoin DICT`: the URL built from `urlParse`'s keys (missing keys are empty).
fn url_join(args: &[Value]) -> Result<Value, FuncError> {
    arity("urlJoin", args, 1)?;
    let d = args[0].as_dict().cloned().unwrap_or_default();
    let get = |key: &str| -> Result<String, FuncError> {
        match d.get(key) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.to_string()),
            Some(other) => Err(FuncError::new(format!(
                "unable to parse {key} key, must be of type string, but {} found",
                other.kind_name()
            ))),
        }
    };
    let mut url = Url {
        scheme: get("scheme")?,
        host: get("host")?,
        path: get("path")?,
        raw_query: get("query")?,
        opaque: get("opaque")?,
        fragment: get("fragment")?,
        ..Url::default()
    };
    let userinfo = get("userinfo")?;
    if !userinfo.is_empty() {
        let parsed = Url::parse(&format!("proto://{userinfo}@host"))
            .map_err(|e| FuncError::new(format!("unable to parse userinfo in dict: {e}")))?;
        url.user = parsed.user;
    }
    Ok(Value::from(url.to_go_string()))
}

pub(super) fn register(r: &mut Registry) {
    r.add("urlParse", url_parse);
    r.add("urlJoin", url_join);
}

#[cfg(test)]
mod tests {
    //! Expected values are Helm 4's output for the same calls (rendered with helm_python).
    use super::super::testing::{i, s, show};
    use super::*;

    fn d(pairs: &[(&str, &str)]) -> Value {
        let out = Dict::new();
        for (k, v) in pairs {
            out.insert(*k, Value::str(v));
        }
        Value::Map(out)
    }

    #[test]
    fn parse_splits_like_net_url() {
        let cases = [
            (
                "proto://auth@host:80/path?query#fragment",
                "map[fragment:fragment host:host:80 hostname:host opaque: path:/path query:query scheme:proto userinfo:auth]",
            ),
            (
                "https://user:p%40ss@[::1]:8443/a%20b/c?x=1&y=%20#frag%21",
                "map[fragment:frag! host:[::1]:8443 hostname:::1 opaque: path:/a b/c query:x=1&y=%20 scheme:https userinfo:user:p%40ss]",
            ),
            (
                "mailto:someone@example.com",
                "map[fragment: host: hostname: opaque:someone@example.com path: query: scheme:mailto userinfo:]",
            ),
            (
                "/relative/path?q",
                "map[fragment: host: hostname: opaque: path:/relative/path query:q scheme: userinfo:]",
            ),
            (
                "file:///etc/hosts",
                "map[fragment: host: hostname: opaque: path:/etc/hosts query: scheme:file userinfo:]",
            ),
            (
                "a:b/c",
                "map[fragment: host: hostname: opaque:b/c path: query: scheme:a userinfo:]",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(show("urlParse", &[s(input)]), want, "{input}");
        }
        assert_eq!(
            show("urlParse", &[s("http://a b.com/")]),
            "error: unable to parse url: parse \"http://a b.com/\": invalid character \" \" in host name"
        );
        assert_eq!(
            show("urlParse", &[s(":foo")]),
            "error: unable to parse url: parse \":foo\": missing protocol scheme"
        );
        assert_eq!(
            show("urlParse", &[s("http://x/%zz")]),
            "error: unable to parse url: parse \"http://x/%zz\": invalid URL escape \"%zz\""
        );
    }

    #[test]
    fn join_escapes_like_url_string() {
        let full = d(&[
            ("fragment", "fragment"),
            ("host", "host:80"),
            ("path", "/path"),
            ("query", "query"),
            ("scheme", "proto"),
        ]);
        assert_eq!(
            show("urlJoin", &[full]),
            "proto://host:80/path?query#fragment"
        );
        let escaped = d(&[
            ("scheme", "https"),
            ("host", "h"),
            ("path", "a b/ü?"),
            ("userinfo", "user:pa%40ss"),
            ("fragment", "f g!"),
        ]);
        assert_eq!(
            show("urlJoin", &[escaped]),
            "https://user:pa%40ss@h/a%20b/%C3%BC%3F#f%20g!"
        );
        assert_eq!(show("urlJoin", &[d(&[("path", "a:b")])]), "./a:b");
        let opaque = d(&[("scheme", "mailto"), ("opaque", "x@y")]);
        assert_eq!(show("urlJoin", &[opaque]), "mailto:x@y");
        assert_eq!(
            show("urlJoin", &[d(&[("host", "h"), ("path", "p")])]),
            "//h/p"
        );
        assert_eq!(show("urlJoin", &[d(&[])]), "");
        let bad = Dict::new();
        bad.insert("host", i(1));
        assert_eq!(
            show("urlJoin", &[Value::Map(bad)]),
            "error: unable to parse host key, must be of type string, but int found"
        );
    }
}

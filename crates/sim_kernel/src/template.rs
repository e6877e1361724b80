//! Templates: literal text with placeholders, compiled once and rendered per use.
//!
//! `{random:N}` (a seeded draw in `0..N`) is the kernel's own placeholder; every other name is a model's
//! ([`Placeholders`]: `{seq}`, `{actor}`, a model's message fields), and the model says what each renders
//! to. `{{` and `}}` are literal braces.
//!
//! # Invariants
//! - Rendering draws from the [`Prng`] once per `{random:N}`, left to right, and never otherwise, so a
//!   template's draws are part of the seeded sequence.
//! - A template that compiled renders without error.

use crate::prng::Prng;
use std::fmt::{self, Write as _};

/// A model's placeholder names.
pub trait Placeholders: Sized + Clone + fmt::Debug + PartialEq + Eq {
    /// Where a template is written, which decides the placeholders it may use.
    type Scope: Copy;
    /// The placeholder `{name}` in `scope`, if there is one.
    fn parse(name: &str, scope: Self::Scope) -> Option<Self>;
    /// Every placeholder allowed in `scope`, as the error text lists them (`{seq}, {random:N}, {actor}`).
    fn known(scope: Self::Scope) -> &'static str;
}

/// A compiled template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template<V> {
    pub parts: Vec<TemplatePart<V>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplatePart<V> {
    Text(String),
    /// `{random:N}`: a uniform draw in `0..N` (`N > 0`).
    Random(u64),
    /// A model's placeholder.
    Var(V),
}

impl<V: Placeholders> Template<V> {
    /// Compiles `text`; `scope` decides which of the model's placeholders are allowed.
    pub fn compile(text: &str, scope: V::Scope) -> Result<Template<V>, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => return Err(format!("unclosed '{{' in template '{text}'")),
                        }
                    }
                    let part = match V::parse(&name, scope) {
                        Some(var) => TemplatePart::Var(var),
                        None => match name.strip_prefix("random:").map(|n| n.trim().parse::<u64>()) {
                            Some(Ok(n)) if n > 0 => TemplatePart::Random(n),
                            _ => {
                                return Err(format!(
                                    "unknown placeholder '{{{name}}}' in template (use {})",
                                    V::known(scope)
                                ));
                            }
                        },
                    };
                    if !literal.is_empty() {
                        parts.push(TemplatePart::Text(std::mem::take(&mut literal)));
                    }
                    parts.push(part);
                }
                '}' => return Err(format!("a lone '}}' in template '{text}' (write '}}}}')")),
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(TemplatePart::Text(literal));
        }
        Ok(Template { parts })
    }
}

impl<V> Template<V> {
    /// Whether the template has no placeholder (then it renders to one fixed text).
    pub fn literal(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [] => Some(""),
            [TemplatePart::Text(t)] => Some(t),
            _ => None,
        }
    }

    /// The rendered text; `var` writes a model placeholder's value.
    pub fn render(&self, prng: &mut Prng, var: impl FnMut(&V, &mut String)) -> String {
        if let Some(text) = self.literal() {
            return text.to_string();
        }
        let mut out = String::new();
        self.render_into(prng, &mut out, var);
        out
    }

    /// Appends the rendered text to `out` (a reused buffer).
    pub fn render_into(&self, prng: &mut Prng, out: &mut String, mut var: impl FnMut(&V, &mut String)) {
        for part in &self.parts {
            match part {
                TemplatePart::Text(t) => out.push_str(t),
                TemplatePart::Random(n) => {
                    let _ = write!(out, "{}", prng.below(*n));
                }
                TemplatePart::Var(v) => var(v, out),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model with one placeholder, `{n}`, allowed only in the "wide" scope.
    #[derive(Clone, Debug, PartialEq, Eq)]
    struct N;

    impl Placeholders for N {
        type Scope = bool;
        fn parse(name: &str, wide: bool) -> Option<N> {
            (wide && name == "n").then_some(N)
        }
        fn known(wide: bool) -> &'static str {
            if wide {
                "{random:N}, {n}"
            } else {
                "{random:N}"
            }
        }
    }

    #[test]
    fn placeholders_render_in_order_and_braces_escape() {
        let t: Template<N> = Template::compile("a{n}-{{x}}-{random:10}", true).unwrap();
        let mut prng = Prng::new(3);
        let mut again = Prng::new(3);
        let drawn = again.below(10);
        assert_eq!(t.render(&mut prng, |_, out| out.push('7')), format!("a7-{{x}}-{drawn}"));
        assert_eq!(Template::<N>::compile("plain", false).unwrap().literal(), Some("plain"));
    }

    #[test]
    fn unknown_and_malformed_placeholders_are_refused_with_the_known_list() {
        let err = Template::<N>::compile("{n}", false).unwrap_err();
        assert_eq!(err, "unknown placeholder '{n}' in template (use {random:N})");
        assert!(Template::<N>::compile("{random:0}", true).is_err());
        assert_eq!(Template::<N>::compile("{", true).unwrap_err(), "unclosed '{' in template '{'");
        assert_eq!(Template::<N>::compile("}", true).unwrap_err(), "a lone '}' in template '}' (write '}}')");
    }
}

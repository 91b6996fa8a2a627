//! The attribute's arguments: `flavor`, `worker_threads`, `start_paused` and `crate`.
//!
//! Owns the parsing of `#[ticktock::main(...)]` / `#[ticktock::test(...)]` arguments
//! into [`Options`], and every check that can be made on the arguments alone.
//!
//! # Ground rules
//! - Parsing happens in two steps. [`RawOption`] only reads `key = value` pairs, so a
//!   typo in one key is reported on that key. [`Options::from_raw`] then checks each
//!   value's type, duplicates, and the combinations (`worker_threads` needs the
//!   multi-thread flavor), so the order of the options never matters.
//! - Every error carries the span of the token it is about (the key, the value, or
//!   the whole `key = value` pair), never the span of the whole attribute.
//! - All the errors found in the arguments are reported together, not just the first.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Lit, Token};

/// The path the generated code uses to reach the runtime when no `crate = "..."`
/// option is given: users depend on the `ticktock` facade crate, and the leading
/// `::` keeps a local module called `ticktock` from shadowing it.
const DEFAULT_CRATE_PATH: &str = "::ticktock";

/// Which attribute is being expanded; it decides the default flavor and the wording
/// of the messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `#[ticktock::main]`: a program's entry point, multi-thread by default.
    Main,
    /// `#[ticktock::test]`: a `#[test]` function, current-thread by default.
    Test,
}

impl Kind {
    /// The attribute as users write it, for messages: `#[ticktock::main]`.
    pub(crate) fn attribute(self) -> &'static str {
        match self {
            Kind::Main => "#[ticktock::main]",
            Kind::Test => "#[ticktock::test]",
        }
    }

    /// The flavor used when no `flavor` option is given. These match what tokio
    /// users expect: a program gets every core, a test gets one deterministic thread.
    fn default_flavor(self) -> Flavor {
        match self {
            Kind::Main => Flavor::MultiThread,
            Kind::Test => Flavor::CurrentThread,
        }
    }
}

/// The runtime flavor the generated code builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `Builder::new_current_thread()`: tasks run on the thread calling `block_on`.
    CurrentThread,
    /// `Builder::new_multi_thread()`: a pool of work-stealing workers.
    MultiThread,
}

/// The checked arguments of one attribute.
pub(crate) struct Options {
    /// The runtime flavor, given or defaulted.
    pub(crate) flavor: Flavor,
    /// `Some(n)` only when given; `None` keeps the builder's default (one worker
    /// per core). Always at least 1, and only ever set with [`Flavor::MultiThread`].
    pub(crate) worker_threads: Option<usize>,
    /// Where the runtime lives: `::ticktock` unless `crate = "..."` says otherwise.
    pub(crate) crate_path: syn::Path,
    /// Whether the runtime starts with time paused (`Builder::start_paused`), on
    /// either flavor.
    pub(crate) start_paused: bool,
}

/// The option names each attribute knows, for the "unknown option" message.
const KNOWN_OPTIONS: &str = "`flavor`, `worker_threads`, `start_paused` or `crate`";

/// One `key = value` pair, unchecked.
struct RawOption {
    /// The option's name (`crate` is a keyword, hence `parse_any`).
    key: Ident,
    /// The `=` between key and value, kept for the span of the whole pair.
    eq: Token![=],
    /// The value as written; its type is checked by [`Options::from_raw`].
    value: Expr,
}

impl RawOption {
    /// The whole `key = value` pair, for errors about the option as a whole.
    fn pair(&self) -> TokenStream {
        let (key, eq, value) = (&self.key, &self.eq, &self.value);
        quote!(#key #eq #value)
    }
}

impl Parse for RawOption {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key = Ident::parse_any(input)?;
        if !input.peek(Token![=]) {
            return Err(missing_value(&key));
        }
        Ok(RawOption {
            key,
            eq: input.parse()?,
            value: input.parse()?,
        })
    }
}

/// The error for a bare word such as `multi_thread` or `worker_threads` without
/// `= value`: says what the user most likely meant.
fn missing_value(key: &Ident) -> syn::Error {
    let message = match key.unraw().to_string().as_str() {
        "multi_thread" | "current_thread" => {
            format!("the flavor is given as `flavor = \"{key}\"`")
        }
        "flavor" => "`flavor` needs a value: `flavor = \"current_thread\"` or \
                     `flavor = \"multi_thread\"`"
            .to_string(),
        "worker_threads" => "`worker_threads` needs a value, like `worker_threads = 4`".to_string(),
        "start_paused" => "`start_paused` needs a value: `start_paused = true`".to_string(),
        "crate" => "`crate` needs a value, like `crate = \"my_reexport::ticktock\"`".to_string(),
        _ => return unknown_option(key),
    };
    syn::Error::new(key.span(), message)
}

/// The error for a key that is not an option.
fn unknown_option(key: &Ident) -> syn::Error {
    syn::Error::new(
        key.span(),
        format!("unknown option `{key}`; expected {KNOWN_OPTIONS}"),
    )
}

/// Collects errors so that all of them are reported in one compile.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    /// Adds one error to the list.
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(first) => first.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// `Ok(value)` if no error was pushed, otherwise all the errors.
    pub(crate) fn finish<T>(self, value: T) -> syn::Result<T> {
        match self.0 {
            Some(error) => Err(error),
            None => Ok(value),
        }
    }
}

impl Options {
    /// Parses and checks the attribute's arguments (the tokens between the
    /// parentheses; empty for a bare `#[ticktock::main]`).
    pub(crate) fn parse(kind: Kind, args: TokenStream) -> syn::Result<Options> {
        let raw =
            syn::parse::Parser::parse2(Punctuated::<RawOption, Token![,]>::parse_terminated, args)?;
        Options::from_raw(kind, raw.into_iter().collect())
    }

    /// Checks each value's type, duplicates and combinations.
    fn from_raw(kind: Kind, raw: Vec<RawOption>) -> syn::Result<Options> {
        let mut errors = Errors::default();
        let mut seen: Vec<String> = Vec::new();
        let mut flavor: Option<Flavor> = None;
        // The `worker_threads` option, kept to point at it if the flavor forbids it.
        let mut worker_threads: Option<(usize, &RawOption)> = None;
        let mut crate_path: Option<syn::Path> = None;
        // The `start_paused = true` option (any flavor: paused time works on both).
        let mut start_paused: Option<&RawOption> = None;

        for option in &raw {
            let name = option.key.unraw().to_string();
            if seen.contains(&name) {
                errors.push(syn::Error::new(
                    option.key.span(),
                    format!("`{name}` is given more than once"),
                ));
                continue;
            }
            seen.push(name.clone());
            let parsed = match name.as_str() {
                "flavor" => parse_flavor(&option.value).map(|f| flavor = Some(f)),
                "worker_threads" => {
                    parse_worker_threads(&option.value).map(|n| worker_threads = Some((n, option)))
                }
                "start_paused" => parse_start_paused(option).map(|paused| {
                    if paused {
                        start_paused = Some(option);
                    }
                }),
                "crate" => parse_crate_path(&option.value).map(|p| crate_path = Some(p)),
                _ => Err(unknown_option(&option.key)),
            };
            if let Err(error) = parsed {
                errors.push(error);
            }
        }

        let flavor_given = flavor.is_some();
        let flavor = flavor.unwrap_or(kind.default_flavor());
        if let (Some((_, option)), Flavor::CurrentThread) = (worker_threads, flavor) {
            let message = if flavor_given {
                "`worker_threads` cannot be used with `flavor = \"current_thread\"`: that \
                 runtime runs every task on the calling thread"
                    .to_string()
            } else {
                format!(
                    "`worker_threads` needs the multi-thread runtime, and `{}` is \
                     current-thread by default; add `flavor = \"multi_thread\"`",
                    kind.attribute()
                )
            };
            errors.push(syn::Error::new_spanned(option.pair(), message));
        }

        let crate_path = match crate_path {
            Some(path) => path,
            None => syn::parse_str(DEFAULT_CRATE_PATH)?,
        };
        errors.finish(Options {
            flavor,
            worker_threads: worker_threads.map(|(n, _)| n),
            crate_path,
            start_paused: start_paused.is_some(),
        })
    }
}

/// The literal inside `value`, if it is one (`"x"`, `4`, `true`).
fn literal(value: &Expr) -> Option<&Lit> {
    match value {
        Expr::Lit(expr) => Some(&expr.lit),
        _ => None,
    }
}

/// `flavor = "current_thread" | "multi_thread"`.
fn parse_flavor(value: &Expr) -> syn::Result<Flavor> {
    let Some(Lit::Str(text)) = literal(value) else {
        return Err(syn::Error::new_spanned(
            value,
            "`flavor` takes a string: \"current_thread\" or \"multi_thread\"",
        ));
    };
    match text.value().as_str() {
        "current_thread" => Ok(Flavor::CurrentThread),
        "multi_thread" => Ok(Flavor::MultiThread),
        other => Err(syn::Error::new(
            text.span(),
            format!("unknown flavor `{other}`; expected \"current_thread\" or \"multi_thread\""),
        )),
    }
}

/// `worker_threads = N` with `N >= 1`.
fn parse_worker_threads(value: &Expr) -> syn::Result<usize> {
    let Some(Lit::Int(int)) = literal(value) else {
        return Err(syn::Error::new_spanned(
            value,
            "`worker_threads` takes an integer literal, like `worker_threads = 4`",
        ));
    };
    match int.base10_parse::<usize>()? {
        0 => Err(syn::Error::new(
            int.span(),
            "`worker_threads` must be at least 1",
        )),
        threads => Ok(threads),
    }
}

/// `start_paused = bool`: whether the runtime starts with its clock paused.
fn parse_start_paused(option: &RawOption) -> syn::Result<bool> {
    match literal(&option.value) {
        Some(Lit::Bool(paused)) => Ok(paused.value),
        _ => Err(syn::Error::new_spanned(
            &option.value,
            "`start_paused` takes a boolean: `start_paused = true`",
        )),
    }
}

/// `crate = "path::to::ticktock"`, for crates that re-export ticktock.
fn parse_crate_path(value: &Expr) -> syn::Result<syn::Path> {
    let Some(Lit::Str(text)) = literal(value) else {
        return Err(syn::Error::new_spanned(
            value,
            "`crate` takes a path in a string, like `crate = \"my_reexport::ticktock\"`",
        ));
    };
    text.parse::<syn::Path>().map_err(|_| {
        syn::Error::new(
            text.span(),
            format!("`{}` is not a path to the ticktock crate", text.value()),
        )
    })
}

impl ToTokens for Flavor {
    /// The builder constructor for this flavor, relative to the crate path.
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.extend(match self {
            Flavor::CurrentThread => quote!(new_current_thread),
            Flavor::MultiThread => quote!(new_multi_thread),
        });
    }
}

//! Checks the annotated function and writes the synchronous wrapper around it.
//!
//! # What the expansion looks like
//! ```text
//! #[ticktock::main(worker_threads = 2)]      fn main() -> Result<(), E> {
//! async fn main() -> Result<(), E> {   =>        async fn __ticktock_body() -> Result<(), E> { BODY }
//!     BODY                                       let runtime = ::ticktock::Builder::new_multi_thread()
//! }                                                  .worker_threads(2).build().expect("...");
//!                                                runtime.block_on(__ticktock_body())
//!                                            }
//! ```
//! The body moves into a nested `async fn` with the user's own return type, rather
//! than into an `async` block: an `async` block has no declared output, so `?` and
//! early `return`s in it would need type annotations the user never had to write.
//! `#[ticktock::test]` adds `#[::core::prelude::v1::test]` in front.
//!
//! # Ground rules
//! - The user's attributes, visibility, name and return type are kept as written,
//!   with their spans, so type errors point at the user's code.
//! - On any error the output is the errors plus a plain stub `fn NAME() {}`, so the
//!   compiler does not add a second, misleading error such as "`main` function not
//!   found".

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ItemFn;

use crate::options::{Errors, Flavor, Kind, Options};

/// The message of the `expect` on `Builder::build`: building fails only when the OS
/// refuses the poller or a thread, which a program's entry point cannot recover from.
const BUILD_FAILED: &str = "ticktock: failed to build the runtime";

/// Expands `#[ticktock::main]` or `#[ticktock::test]` (per `kind`) with arguments
/// `args` on the item `item`.
pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            let error = syn::Error::new_spanned(
                &item,
                format!("`{}` can only be used on an `async fn`", kind.attribute()),
            );
            // Keep the item so that its other uses do not fail as well.
            let error = error.to_compile_error();
            return quote!(#error #item);
        }
    };
    let options = Options::parse(kind, args);
    let signature = check_signature(kind, &function);
    let error = match (options, signature) {
        (Ok(options), Ok(())) => return wrap(kind, &options, function),
        (Err(mut error), Err(more)) => {
            error.combine(more);
            error
        }
        (Err(error), Ok(())) | (Ok(_), Err(error)) => error,
    };
    let error = error.to_compile_error();
    let stub = stub(&function);
    quote!(#error #stub)
}

/// Checks that the wrapper can call `function`: one spanned error for each thing
/// it cannot handle, all reported together.
fn check_signature(kind: Kind, function: &ItemFn) -> syn::Result<()> {
    let mut errors = Errors::default();
    let attribute = kind.attribute();
    let sig = &function.sig;
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new(
            sig.fn_token.span,
            format!("`{attribute}` needs an `async fn`; add `async` before `fn`"),
        ));
    }
    if let Some(constness) = &sig.constness {
        errors.push(syn::Error::new(
            constness.span,
            format!("`{attribute}` cannot be used on a `const fn`"),
        ));
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.push(syn::Error::new(
            unsafety.span,
            format!("`{attribute}` cannot be used on an `unsafe fn`"),
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new_spanned(
            abi,
            format!("`{attribute}` cannot be used on an `extern` function"),
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.push(syn::Error::new_spanned(
            &sig.generics,
            format!("`{attribute}` functions cannot be generic"),
        ));
    }
    if !sig.inputs.is_empty() || sig.variadic.is_some() {
        let what = match kind {
            Kind::Main => {
                "the program's entry point receives no arguments; read them with \
                 `std::env::args()`"
            }
            Kind::Test => "a test receives no arguments",
        };
        errors.push(syn::Error::new_spanned(
            &sig.inputs,
            format!("`{attribute}` functions cannot take arguments: {what}"),
        ));
    }
    if kind == Kind::Test {
        for attr in &function.attrs {
            if attr.path().is_ident("test") {
                errors.push(syn::Error::new_spanned(
                    attr,
                    "`#[ticktock::test]` already marks the function as a test; remove `#[test]`",
                ));
            }
        }
    }
    errors.finish(())
}

/// The synchronous function that builds a runtime and blocks on the body.
fn wrap(kind: Kind, options: &Options, function: ItemFn) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = function;
    let name = &sig.ident;
    let output = &sig.output;
    let body = format_ident!("__ticktock_body", span = name.span());
    let krate = &options.crate_path;
    let constructor = options.flavor;
    let workers = options.worker_threads.map(|threads| {
        debug_assert_eq!(options.flavor, Flavor::MultiThread);
        quote!(.worker_threads(#threads))
    });
    let test_attribute = match kind {
        Kind::Main => None,
        Kind::Test => Some(quote!(#[::core::prelude::v1::test])),
    };
    // The runtime code takes the span of the function's name, so that an error in
    // it (say, a wrong `crate` path) is reported on the user's function.
    let pause = options.start_paused.then(|| quote!(.start_paused(true)));
    let run = quote_spanned! {name.span()=>
        let runtime = #krate::Builder::#constructor()
            #workers
            #pause
            .build()
            .expect(#BUILD_FAILED);
        runtime.block_on(async {
            #body().await
        })
    };
    quote! {
        #test_attribute
        #(#attrs)*
        #vis fn #name() #output {
            async fn #body() #output #block
            #run
        }
    }
}

/// What replaces the function when the attribute has errors: the same name, no
/// body, so that the only errors shown are the attribute's own.
fn stub(function: &ItemFn) -> TokenStream {
    let vis = &function.vis;
    let name = &function.sig.ident;
    quote! {
        #[allow(dead_code)]
        #vis fn #name() {}
    }
}

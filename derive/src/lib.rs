//! `#[derive(ComponentType)]`: implements `cmc_runtime::component`'s
//! `ComponentType`, `Lower` and `Lift` for a Rust type, so that it crosses
//! the typed component API as a component value.
//!
//! - A struct with named fields is a `record`; fields in order, named in
//!   kebab-case (`max_len` is `max-len`).
//! - A struct with `#[component(flags)]`, whose fields are all `bool`, is a
//!   `flags` type: one label per field, in order.
//! - An enum whose variants all have no data is an `enum`; with
//!   `#[component(variant)]`, or when a variant holds one value (`Ok(u32)`),
//!   it is a `variant`. Cases are named in kebab-case (`NotFound` is
//!   `not-found`).
//! - `#[component(name = "…")]` on a field or variant gives its name.
//!
//! The names must be the component type's, in its order: the typed API
//! checks them once, when a handle is made or a component instantiated.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, parse_macro_input};

/// Implements `ComponentType`, `Lower` and `Lift` (see the crate docs).
#[proc_macro_derive(ComponentType, attributes(component))]
pub fn derive_component_type(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// What `#[component(...)]` says about one item.
#[derive(Default)]
struct Attrs {
    name: Option<String>,
    flags: bool,
    variant: bool,
}

fn attrs(attrs: &[syn::Attribute]) -> syn::Result<Attrs> {
    let mut out = Attrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("component")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                out.name = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if meta.path.is_ident("flags") {
                out.flags = true;
            } else if meta.path.is_ident("variant") {
                out.variant = true;
            } else {
                return Err(meta.error("expected `name = \"…\"`, `flags` or `variant`"));
            }
            Ok(())
        })?;
    }
    Ok(out)
}

/// `max_len` → `max-len`; `NotFound` → `not-found`.
fn kebab(ident: &Ident) -> String {
    let text = ident.to_string();
    let text = text.strip_prefix("r#").unwrap_or(&text);
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if c == '_' {
            out.push('-');
        } else if c.is_uppercase() {
            if i > 0 && !out.ends_with('-') {
                out.push('-');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "`ComponentType` cannot be derived for generic types",
        ));
    }
    let top = attrs(&input.attrs)?;
    match &input.data {
        Data::Struct(s) => {
            let Fields::Named(fields) = &s.fields else {
                return Err(syn::Error::new_spanned(
                    &input.ident,
                    "a record or flags needs named fields",
                ));
            };
            let mut members = Vec::new();
            for field in &fields.named {
                let ident = field.ident.clone().expect("named field");
                let name = attrs(&field.attrs)?.name.unwrap_or_else(|| kebab(&ident));
                members.push((ident, name, field.ty.clone()));
            }
            if top.flags {
                Ok(flags(&input.ident, &members))
            } else {
                Ok(record(&input.ident, &members))
            }
        }
        Data::Enum(e) => {
            let mut cases = Vec::new();
            for v in &e.variants {
                let name = attrs(&v.attrs)?.name.unwrap_or_else(|| kebab(&v.ident));
                let payload = match &v.fields {
                    Fields::Unit => None,
                    Fields::Unnamed(f) if f.unnamed.len() == 1 => Some(f.unnamed[0].ty.clone()),
                    _ => {
                        return Err(syn::Error::new_spanned(
                            v,
                            "a case holds no value or exactly one, as `Case(T)`",
                        ));
                    }
                };
                cases.push((v.ident.clone(), name, payload));
            }
            if top.variant || cases.iter().any(|(_, _, p)| p.is_some()) {
                Ok(variant(&input.ident, &cases))
            } else {
                Ok(enumeration(&input.ident, &cases))
            }
        }
        Data::Union(_) => Err(syn::Error::new_spanned(
            &input.ident,
            "`ComponentType` cannot be derived for unions",
        )),
    }
}

/// The path of the runtime's typed module.
fn typed() -> Tokens {
    quote!(::cmc_runtime::component::typed)
}

fn record(ident: &Ident, members: &[(Ident, String, syn::Type)]) -> Tokens {
    let t = typed();
    let rust = ident.to_string();
    let names: Vec<&String> = members.iter().map(|(_, n, _)| n).collect();
    let fields: Vec<&Ident> = members.iter().map(|(f, _, _)| f).collect();
    let types: Vec<&syn::Type> = members.iter().map(|(_, _, ty)| ty).collect();
    let index: Vec<usize> = (0..members.len()).collect();
    quote! {
        impl #t::ComponentType for #ident {
            fn typecheck(ty: &#t::InterfaceType) -> ::core::result::Result<(), ::std::string::String> {
                let fields = #t::typecheck_record(ty, #rust, &[#(#names),*])?;
                #(<#types as #t::ComponentType>::typecheck(fields[#index])
                    .map_err(|e| ::std::format!("field `{}`: {}", #names, e))?;)*
                Ok(())
            }
        }

        impl #t::Lower for #ident {
            fn lower_flat<__C: #t::LowerContext>(
                &self,
                cx: &mut __C,
                ty: &#t::InterfaceType,
                out: &mut ::std::vec::Vec<#t::CoreVal>,
            ) -> ::core::result::Result<(), __C::Error> {
                let fields = #t::fields(ty);
                #(#t::Lower::lower_flat(&self.#fields, cx, fields[#index], out)?;)*
                Ok(())
            }

            fn store<__C: #t::LowerContext>(
                &self,
                cx: &mut __C,
                ty: &#t::InterfaceType,
                ptr: u64,
            ) -> ::core::result::Result<(), __C::Error> {
                let fields = #t::fields(ty);
                let offsets = #t::offsets(ty, #t::LowerContext::ptr_type(cx));
                #(#t::Lower::store(&self.#fields, cx, fields[#index], ptr + u64::from(offsets[#index]))?;)*
                Ok(())
            }

            fn to_val(&self, ty: &#t::InterfaceType) -> #t::Val {
                let fields = #t::fields(ty);
                #t::Val::Record(::std::vec![
                    #((::std::string::String::from(#names), #t::Lower::to_val(&self.#fields, fields[#index]))),*
                ])
            }
        }

        impl #t::Lift for #ident {
            fn lift_flat<__C: #t::LiftContext>(
                cx: &mut __C,
                ty: &#t::InterfaceType,
                vi: &mut #t::FlatReader<'_>,
            ) -> ::core::result::Result<Self, __C::Error> {
                let fields = #t::fields(ty);
                Ok(#ident { #(#fields: <#types as #t::Lift>::lift_flat(cx, fields[#index], vi)?),* })
            }

            fn load<__C: #t::LiftContext>(
                cx: &mut __C,
                ty: &#t::InterfaceType,
                ptr: u64,
            ) -> ::core::result::Result<Self, __C::Error> {
                let fields = #t::fields(ty);
                let offsets = #t::offsets(ty, #t::LiftContext::ptr_type(cx));
                Ok(#ident {
                    #(#fields: <#types as #t::Lift>::load(cx, fields[#index], ptr + u64::from(offsets[#index]))?),*
                })
            }

            fn from_val(v: #t::Val, ty: &#t::InterfaceType) -> ::core::result::Result<Self, #t::CanonError> {
                let fields = #t::fields(ty);
                match v {
                    #t::Val::Record(items) if items.len() == fields.len() => {
                        let mut items = items.into_iter().map(|(_, v)| v);
                        Ok(#ident {
                            #(#fields: <#types as #t::Lift>::from_val(
                                items.next().unwrap_or(#t::Val::Bool(false)),
                                fields[#index],
                            )?),*
                        })
                    }
                    other => Err(#t::type_error(ty, &other)),
                }
            }
        }
    }
}

fn flags(ident: &Ident, members: &[(Ident, String, syn::Type)]) -> Tokens {
    let t = typed();
    let rust = ident.to_string();
    let names: Vec<&String> = members.iter().map(|(_, n, _)| n).collect();
    let fields: Vec<&Ident> = members.iter().map(|(f, _, _)| f).collect();
    let bit: Vec<u32> = (0..members.len() as u32).collect();
    quote! {
        impl #ident {
            /// Bit `i` for label `i`.
            fn __bits(&self) -> u32 {
                0 #(| (u32::from(self.#fields) << #bit))*
            }

            fn __from_bits(bits: u32) -> Self {
                #ident { #(#fields: bits >> #bit & 1 == 1),* }
            }
        }

        impl #t::ComponentType for #ident {
            fn typecheck(ty: &#t::InterfaceType) -> ::core::result::Result<(), ::std::string::String> {
                #t::typecheck_flags(ty, #rust, &[#(#names),*])
            }
        }

        impl #t::Lower for #ident {
            fn lower_flat<__C: #t::LowerContext>(
                &self,
                _: &mut __C,
                _: &#t::InterfaceType,
                out: &mut ::std::vec::Vec<#t::CoreVal>,
            ) -> ::core::result::Result<(), __C::Error> {
                #t::lower_flags_flat(self.__bits(), out);
                Ok(())
            }

            fn store<__C: #t::LowerContext>(
                &self,
                cx: &mut __C,
                ty: &#t::InterfaceType,
                ptr: u64,
            ) -> ::core::result::Result<(), __C::Error> {
                #t::store_flags(cx, ty, ptr, self.__bits())
            }

            fn to_val(&self, _: &#t::InterfaceType) -> #t::Val {
                let mut set = ::std::vec::Vec::new();
                #(if self.#fields { set.push(::std::string::String::from(#names)); })*
                #t::Val::Flags(set)
            }
        }

        impl #t::Lift for #ident {
            fn lift_flat<__C: #t::LiftContext>(
                _: &mut __C,
                _: &#t::InterfaceType,
                vi: &mut #t::FlatReader<'_>,
            ) -> ::core::result::Result<Self, __C::Error> {
                Ok(Self::__from_bits(vi.next_u32()?))
            }

            fn load<__C: #t::LiftContext>(
                cx: &mut __C,
                ty: &#t::InterfaceType,
                ptr: u64,
            ) -> ::core::result::Result<Self, __C::Error> {
                Ok(Self::__from_bits(#t::load_flags(cx, ty, ptr)?))
            }

            fn from_val(v: #t::Val, ty: &#t::InterfaceType) -> ::core::result::Result<Self, #t::CanonError> {
                match v {
                    #t::Val::Flags(set) => Ok(#ident {
                        #(#fields: set.iter().any(|l| l == #names)),*
                    }),
                    other => Err(#t::type_error(ty, &other)),
                }
            }
        }
    }
}

/// A case of a variant or enum: its Rust variant, name and payload type.
type Case = (Ident, String, Option<syn::Type>);

fn variant(ident: &Ident, cases: &[Case]) -> Tokens {
    let t = typed();
    let rust = ident.to_string();
    let names: Vec<&String> = cases.iter().map(|(_, n, _)| n).collect();
    let unit: syn::Type = syn::parse_quote!(());
    let payloads: Vec<&syn::Type> = cases
        .iter()
        .map(|(_, _, p)| p.as_ref().unwrap_or(&unit))
        .collect();
    let index: Vec<u32> = (0..cases.len() as u32).collect();
    let slot: Vec<usize> = (0..cases.len()).collect();
    // `Self::A(v)` binds the payload, `Self::B` binds `()`.
    let patterns: Vec<Tokens> = cases
        .iter()
        .map(|(v, _, p)| match p {
            Some(_) => quote!(#ident::#v(payload)),
            None => quote!(#ident::#v),
        })
        .collect();
    let bind: Vec<Tokens> = cases
        .iter()
        .map(|(_, _, p)| match p {
            Some(_) => quote!(payload),
            None => quote!(&()),
        })
        .collect();
    let build: Vec<Tokens> = cases
        .iter()
        .map(|(v, _, p)| match p {
            Some(ty) => quote!(#ident::#v(case.payload::<__C, #ty>(cx, ty)?)),
            None => quote!(#ident::#v),
        })
        .collect();
    let from_val: Vec<Tokens> = cases
        .iter()
        .zip(&slot)
        .map(|((v, _, p), i)| match p {
            Some(ty) => quote!(#ident::#v(<#ty as #t::Lift>::from_val(
                payload.map_or(#t::Val::Tuple(::std::vec::Vec::new()), |p| *p),
                &#t::payload_type(ty, #i),
            )?)),
            None => quote!(#ident::#v),
        })
        .collect();
    let to_val: Vec<Tokens> = cases
        .iter()
        .zip(&slot)
        .map(|((_, name, p), i)| match p {
            Some(_) => quote!(#t::Val::Variant(
                ::std::string::String::from(#name),
                Some(::std::boxed::Box::new(#t::Lower::to_val(payload, &#t::payload_type(ty, #i)))),
            )),
            None => quote!(#t::Val::Variant(::std::string::String::from(#name), None)),
        })
        .collect();
    let (lift, inherent) = lift_cases(ident, &index, &build);
    quote! {
        #inherent

        impl #t::ComponentType for #ident {
            fn typecheck(ty: &#t::InterfaceType) -> ::core::result::Result<(), ::std::string::String> {
                let cases = #t::typecheck_variant(ty, #rust, &[#(#names),*])?;
                #(<#payloads as #t::ComponentType>::typecheck_payload(cases[#slot])
                    .map_err(|e| ::std::format!("case `{}`: {}", #names, e))?;)*
                Ok(())
            }
        }

        impl #t::Lower for #ident {
            fn lower_flat<__C: #t::LowerContext>(
                &self,
                cx: &mut __C,
                ty: &#t::InterfaceType,
                out: &mut ::std::vec::Vec<#t::CoreVal>,
            ) -> ::core::result::Result<(), __C::Error> {
                match self {
                    #(#patterns => #t::lower_case_flat(cx, ty, #index, Some(#bind), out),)*
                }
            }

            fn store<__C: #t::LowerContext>(
                &self,
                cx: &mut __C,
                ty: &#t::InterfaceType,
                ptr: u64,
            ) -> ::core::result::Result<(), __C::Error> {
                match self {
                    #(#patterns => #t::store_case(cx, ty, ptr, #index, Some(#bind)),)*
                }
            }

            fn to_val(&self, ty: &#t::InterfaceType) -> #t::Val {
                match self {
                    #(#patterns => #to_val,)*
                }
            }
        }

        impl #t::Lift for #ident {
            #lift

            fn from_val(v: #t::Val, ty: &#t::InterfaceType) -> ::core::result::Result<Self, #t::CanonError> {
                match v {
                    #t::Val::Variant(label, payload) => match label.as_str() {
                        #(#names => Ok(#from_val),)*
                        _ => Err(#t::type_error(ty, &#t::Val::Variant(label, payload))),
                    },
                    other => Err(#t::type_error(ty, &other)),
                }
            }
        }
    }
}

fn enumeration(ident: &Ident, cases: &[Case]) -> Tokens {
    let t = typed();
    let rust = ident.to_string();
    let names: Vec<&String> = cases.iter().map(|(_, n, _)| n).collect();
    let variants: Vec<&Ident> = cases.iter().map(|(v, _, _)| v).collect();
    let index: Vec<u32> = (0..cases.len() as u32).collect();
    let build: Vec<Tokens> = variants.iter().map(|v| quote!(#ident::#v)).collect();
    let (lift, inherent) = lift_cases(ident, &index, &build);
    quote! {
        #inherent

        impl #t::ComponentType for #ident {
            fn typecheck(ty: &#t::InterfaceType) -> ::core::result::Result<(), ::std::string::String> {
                #t::typecheck_enum(ty, #rust, &[#(#names),*])
            }
        }

        impl #t::Lower for #ident {
            fn lower_flat<__C: #t::LowerContext>(
                &self,
                cx: &mut __C,
                ty: &#t::InterfaceType,
                out: &mut ::std::vec::Vec<#t::CoreVal>,
            ) -> ::core::result::Result<(), __C::Error> {
                let index = match self { #(#ident::#variants => #index,)* };
                #t::lower_case_flat::<__C, ()>(cx, ty, index, None, out)
            }

            fn store<__C: #t::LowerContext>(
                &self,
                cx: &mut __C,
                ty: &#t::InterfaceType,
                ptr: u64,
            ) -> ::core::result::Result<(), __C::Error> {
                let index = match self { #(#ident::#variants => #index,)* };
                #t::store_case::<__C, ()>(cx, ty, ptr, index, None)
            }

            fn to_val(&self, _: &#t::InterfaceType) -> #t::Val {
                let name = match self { #(#ident::#variants => #names,)* };
                #t::Val::Enum(::std::string::String::from(name))
            }
        }

        impl #t::Lift for #ident {
            #lift

            fn from_val(v: #t::Val, ty: &#t::InterfaceType) -> ::core::result::Result<Self, #t::CanonError> {
                match &v {
                    #t::Val::Enum(label) => match label.as_str() {
                        #(#names => Ok(#ident::#variants),)*
                        _ => Err(#t::type_error(ty, &v)),
                    },
                    _ => Err(#t::type_error(ty, &v)),
                }
            }
        }
    }
}

/// `lift_flat` and `load` of a variant or enum, which read the case and
/// build the value with `__from_case`; and that function, in an inherent
/// impl (it cannot live inside the trait impl): case `index[i]` is built
/// with `build[i]`, which may read `case`'s payload.
fn lift_cases(ident: &Ident, index: &[u32], build: &[Tokens]) -> (Tokens, Tokens) {
    let t = typed();
    let methods = quote! {
        fn lift_flat<__C: #t::LiftContext>(
            cx: &mut __C,
            ty: &#t::InterfaceType,
            vi: &mut #t::FlatReader<'_>,
        ) -> ::core::result::Result<Self, __C::Error> {
            let case = #t::lift_case_flat(cx, ty, vi)?;
            Self::__from_case(cx, ty, case)
        }

        fn load<__C: #t::LiftContext>(
            cx: &mut __C,
            ty: &#t::InterfaceType,
            ptr: u64,
        ) -> ::core::result::Result<Self, __C::Error> {
            let case = #t::load_case(cx, ty, ptr)?;
            Self::__from_case(cx, ty, case)
        }
    };
    let count = index.len();
    let inherent = quote! {
        impl #ident {
            #[allow(unused_variables)]
            fn __from_case<__C: #t::LiftContext>(
                cx: &mut __C,
                ty: &#t::InterfaceType,
                case: #t::Case,
            ) -> ::core::result::Result<Self, __C::Error> {
                match case.index {
                    #(#index => Ok(#build),)*
                    other => Err(#t::invalid_case(other, #count).into()),
                }
            }
        }
    };
    (methods, inherent)
}

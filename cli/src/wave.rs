//! Component values and types on the command line.
//!
//! `cmc run --invoke 'f(1, "x", [1, 2])'` writes arguments in WAVE, the
//! WebAssembly Value Encoding of the `wasm-wave` crate, and results are
//! printed in it. [`WaveType`] and [`WaveVal`] implement wasm-wave's
//! `WasmType` and `WasmValue` traits over cmc's own [`InterfaceType`] and
//! component [`Val`], so wasm-wave's parser builds cmc values directly and
//! its writer prints them, with no second value tree to convert through.
//!
//! Function names: WAVE's own call syntax only knows WIT-style names, while
//! a component export is a path (a root export, then names inside exported
//! instances). `cmc` writes that path with `#`, as WIT does for interface
//! members: `api#hello("cmc")`, `wasi:cli/run@0.2.6#run()`.

use anyhow::{Result, bail};
use cmc_runtime::abi::ExportItem;
use cmc_runtime::component::{FuncType, InterfaceType, Val};
use std::borrow::Cow;
use wasm_wave::parser::ParserError;
use wasm_wave::untyped::UntypedValue;
use wasm_wave::wasm::{WasmType, WasmTypeKind, WasmValue, WasmValueError};

/// An [`InterfaceType`] as wasm-wave sees it. Owned, because wasm-wave asks
/// for nested types by value.
#[derive(Clone, Debug)]
pub struct WaveType(pub InterfaceType);

/// A component [`Val`] as wasm-wave sees it.
#[derive(Clone, Debug)]
pub struct WaveVal(pub Val);

impl WasmType for WaveType {
    fn kind(&self) -> WasmTypeKind {
        match &self.0 {
            InterfaceType::Bool => WasmTypeKind::Bool,
            InterfaceType::S8 => WasmTypeKind::S8,
            InterfaceType::U8 => WasmTypeKind::U8,
            InterfaceType::S16 => WasmTypeKind::S16,
            InterfaceType::U16 => WasmTypeKind::U16,
            InterfaceType::S32 => WasmTypeKind::S32,
            InterfaceType::U32 => WasmTypeKind::U32,
            InterfaceType::S64 => WasmTypeKind::S64,
            InterfaceType::U64 => WasmTypeKind::U64,
            InterfaceType::F32 => WasmTypeKind::F32,
            InterfaceType::F64 => WasmTypeKind::F64,
            InterfaceType::Char => WasmTypeKind::Char,
            InterfaceType::String => WasmTypeKind::String,
            InterfaceType::List(_) => WasmTypeKind::List,
            InterfaceType::Record(_) => WasmTypeKind::Record,
            InterfaceType::Tuple(_) => WasmTypeKind::Tuple,
            InterfaceType::Variant(_) => WasmTypeKind::Variant,
            InterfaceType::Enum(_) => WasmTypeKind::Enum,
            InterfaceType::Option(_) => WasmTypeKind::Option,
            InterfaceType::Result { .. } => WasmTypeKind::Result,
            InterfaceType::Flags(_) => WasmTypeKind::Flags,
            // Handles have no text form: they name objects of a store.
            InterfaceType::Own(_)
            | InterfaceType::Borrow(_)
            | InterfaceType::Stream(_)
            | InterfaceType::Future(_)
            | InterfaceType::ErrorContext => WasmTypeKind::Unsupported,
        }
    }

    fn list_element_type(&self) -> Option<Self> {
        match &self.0 {
            InterfaceType::List(t) => Some(WaveType((**t).clone())),
            _ => None,
        }
    }

    fn record_fields(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, Self)> + '_> {
        match &self.0 {
            InterfaceType::Record(fields) => Box::new(
                fields
                    .iter()
                    .map(|(name, t)| (Cow::Borrowed(name.as_str()), WaveType(t.clone()))),
            ),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn tuple_element_types(&self) -> Box<dyn Iterator<Item = Self> + '_> {
        match &self.0 {
            InterfaceType::Tuple(types) => Box::new(types.iter().cloned().map(WaveType)),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn variant_cases(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, Option<Self>)> + '_> {
        match &self.0 {
            InterfaceType::Variant(cases) => Box::new(
                cases
                    .iter()
                    .map(|(name, t)| (Cow::Borrowed(name.as_str()), t.clone().map(WaveType))),
            ),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn enum_cases(&self) -> Box<dyn Iterator<Item = Cow<'_, str>> + '_> {
        match &self.0 {
            InterfaceType::Enum(labels) => {
                Box::new(labels.iter().map(|l| Cow::Borrowed(l.as_str())))
            }
            _ => Box::new(std::iter::empty()),
        }
    }

    fn option_some_type(&self) -> Option<Self> {
        match &self.0 {
            InterfaceType::Option(t) => Some(WaveType((**t).clone())),
            _ => None,
        }
    }

    fn result_types(&self) -> Option<(Option<Self>, Option<Self>)> {
        match &self.0 {
            InterfaceType::Result { ok, err } => Some((
                ok.as_deref().cloned().map(WaveType),
                err.as_deref().cloned().map(WaveType),
            )),
            _ => None,
        }
    }

    fn flags_names(&self) -> Box<dyn Iterator<Item = Cow<'_, str>> + '_> {
        match &self.0 {
            InterfaceType::Flags(labels) => {
                Box::new(labels.iter().map(|l| Cow::Borrowed(l.as_str())))
            }
            _ => Box::new(std::iter::empty()),
        }
    }
}

/// The `make_*` constructors and `unwrap_*` accessors of the scalar types,
/// one per `(Val variant, Rust type)` pair.
macro_rules! scalars {
    ($($make:ident, $unwrap:ident: $variant:ident($ty:ty);)*) => {
        $(
            fn $make(val: $ty) -> Self {
                WaveVal(Val::$variant(val))
            }

            fn $unwrap(&self) -> $ty {
                match self.0 {
                    Val::$variant(v) => v,
                    ref other => wrong_kind(other, stringify!($variant)),
                }
            }
        )*
    };
}

/// wasm-wave calls an accessor only after [`WaveVal::kind`] named its kind,
/// so another kind here is a bug in the caller, not bad input.
fn wrong_kind(val: &Val, wanted: &str) -> ! {
    panic!("wasm-wave asked a {} value for a {wanted}", val.kind())
}

fn boxed(val: Option<WaveVal>) -> Option<Box<Val>> {
    val.map(|v| Box::new(v.0))
}

/// Checks that `label` is one of `labels` (of an enum or flags type):
/// wasm-wave leaves that check to the value type.
fn known_label<'a>(
    mut labels: impl Iterator<Item = Cow<'a, str>>,
    label: &str,
) -> Result<(), WasmValueError> {
    if labels.any(|l| l == label) {
        Ok(())
    } else {
        Err(WasmValueError::UnknownCase(label.to_owned()))
    }
}

fn elements(items: &[Val]) -> Box<dyn Iterator<Item = Cow<'_, WaveVal>> + '_> {
    Box::new(items.iter().map(|v| Cow::Owned(WaveVal(v.clone()))))
}

fn unboxed(val: &Option<Box<Val>>) -> Option<Cow<'_, WaveVal>> {
    val.as_deref().map(|v| Cow::Owned(WaveVal(v.clone())))
}

impl WasmValue for WaveVal {
    type Type = WaveType;

    fn kind(&self) -> WasmTypeKind {
        match &self.0 {
            Val::Bool(_) => WasmTypeKind::Bool,
            Val::S8(_) => WasmTypeKind::S8,
            Val::U8(_) => WasmTypeKind::U8,
            Val::S16(_) => WasmTypeKind::S16,
            Val::U16(_) => WasmTypeKind::U16,
            Val::S32(_) => WasmTypeKind::S32,
            Val::U32(_) => WasmTypeKind::U32,
            Val::S64(_) => WasmTypeKind::S64,
            Val::U64(_) => WasmTypeKind::U64,
            Val::F32(_) => WasmTypeKind::F32,
            Val::F64(_) => WasmTypeKind::F64,
            Val::Char(_) => WasmTypeKind::Char,
            Val::String(_) => WasmTypeKind::String,
            Val::List(_) | Val::Bytes(_) => WasmTypeKind::List,
            Val::Record(_) => WasmTypeKind::Record,
            Val::Tuple(_) => WasmTypeKind::Tuple,
            Val::Variant(..) => WasmTypeKind::Variant,
            Val::Enum(_) => WasmTypeKind::Enum,
            Val::Option(_) => WasmTypeKind::Option,
            Val::Result(_) => WasmTypeKind::Result,
            Val::Flags(_) => WasmTypeKind::Flags,
            Val::Resource(_) | Val::Stream(_) | Val::Future(_) | Val::ErrorContext(_) => {
                WasmTypeKind::Unsupported
            }
        }
    }

    scalars! {
        make_bool, unwrap_bool: Bool(bool);
        make_s8, unwrap_s8: S8(i8);
        make_u8, unwrap_u8: U8(u8);
        make_s16, unwrap_s16: S16(i16);
        make_u16, unwrap_u16: U16(u16);
        make_s32, unwrap_s32: S32(i32);
        make_u32, unwrap_u32: U32(u32);
        make_s64, unwrap_s64: S64(i64);
        make_u64, unwrap_u64: U64(u64);
        make_f32, unwrap_f32: F32(f32);
        make_f64, unwrap_f64: F64(f64);
        make_char, unwrap_char: Char(char);
    }

    fn make_string(val: Cow<str>) -> Self {
        WaveVal(Val::String(val.into_owned()))
    }

    fn make_list(
        _ty: &WaveType,
        vals: impl IntoIterator<Item = Self>,
    ) -> Result<Self, WasmValueError> {
        Ok(WaveVal(Val::List(vals.into_iter().map(|v| v.0).collect())))
    }

    /// Orders the fields as the type declares them, as [`Val::Record`] wants.
    fn make_record<'a>(
        ty: &WaveType,
        fields: impl IntoIterator<Item = (&'a str, Self)>,
    ) -> Result<Self, WasmValueError> {
        let mut given: Vec<(&str, Val)> = fields.into_iter().map(|(n, v)| (n, v.0)).collect();
        let ordered = ty
            .record_fields()
            .map(|(name, _)| {
                let i = given
                    .iter()
                    .position(|(n, _)| *n == name)
                    .ok_or_else(|| WasmValueError::MissingField(name.to_string()))?;
                Ok((name.into_owned(), given.swap_remove(i).1))
            })
            .collect::<Result<_, _>>()?;
        match given.first() {
            Some((extra, _)) => Err(WasmValueError::UnknownField(extra.to_string())),
            None => Ok(WaveVal(Val::Record(ordered))),
        }
    }

    fn make_tuple(
        _ty: &WaveType,
        vals: impl IntoIterator<Item = Self>,
    ) -> Result<Self, WasmValueError> {
        Ok(WaveVal(Val::Tuple(vals.into_iter().map(|v| v.0).collect())))
    }

    fn make_variant(_ty: &WaveType, case: &str, val: Option<Self>) -> Result<Self, WasmValueError> {
        Ok(WaveVal(Val::Variant(case.to_owned(), boxed(val))))
    }

    fn make_enum(ty: &WaveType, case: &str) -> Result<Self, WasmValueError> {
        known_label(ty.enum_cases(), case)?;
        Ok(WaveVal(Val::Enum(case.to_owned())))
    }

    fn make_option(_ty: &WaveType, val: Option<Self>) -> Result<Self, WasmValueError> {
        Ok(WaveVal(Val::Option(boxed(val))))
    }

    fn make_result(
        _ty: &WaveType,
        val: Result<Option<Self>, Option<Self>>,
    ) -> Result<Self, WasmValueError> {
        Ok(WaveVal(Val::Result(val.map(boxed).map_err(boxed))))
    }

    fn make_flags<'a>(
        ty: &WaveType,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, WasmValueError> {
        let names = names
            .into_iter()
            .map(|name| known_label(ty.flags_names(), name).map(|()| name.to_owned()))
            .collect::<Result<_, _>>()?;
        Ok(WaveVal(Val::Flags(names)))
    }

    fn unwrap_string(&self) -> Cow<'_, str> {
        match &self.0 {
            Val::String(s) => Cow::Borrowed(s),
            other => wrong_kind(other, "string"),
        }
    }

    fn unwrap_list(&self) -> Box<dyn Iterator<Item = Cow<'_, Self>> + '_> {
        match &self.0 {
            Val::List(items) => elements(items),
            Val::Bytes(bytes) => Box::new(bytes.iter().map(|&b| Cow::Owned(WaveVal(Val::U8(b))))),
            other => wrong_kind(other, "list"),
        }
    }

    fn unwrap_record(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, Cow<'_, Self>)> + '_> {
        match &self.0 {
            Val::Record(fields) => Box::new(
                fields
                    .iter()
                    .map(|(n, v)| (Cow::Borrowed(n.as_str()), Cow::Owned(WaveVal(v.clone())))),
            ),
            other => wrong_kind(other, "record"),
        }
    }

    fn unwrap_tuple(&self) -> Box<dyn Iterator<Item = Cow<'_, Self>> + '_> {
        match &self.0 {
            Val::Tuple(items) => elements(items),
            other => wrong_kind(other, "tuple"),
        }
    }

    fn unwrap_variant(&self) -> (Cow<'_, str>, Option<Cow<'_, Self>>) {
        match &self.0 {
            Val::Variant(case, payload) => (Cow::Borrowed(case), unboxed(payload)),
            other => wrong_kind(other, "variant"),
        }
    }

    fn unwrap_enum(&self) -> Cow<'_, str> {
        match &self.0 {
            Val::Enum(case) => Cow::Borrowed(case),
            other => wrong_kind(other, "enum"),
        }
    }

    fn unwrap_option(&self) -> Option<Cow<'_, Self>> {
        match &self.0 {
            Val::Option(payload) => unboxed(payload),
            other => wrong_kind(other, "option"),
        }
    }

    fn unwrap_result(&self) -> Result<Option<Cow<'_, Self>>, Option<Cow<'_, Self>>> {
        match &self.0 {
            Val::Result(Ok(payload)) => Ok(unboxed(payload)),
            Val::Result(Err(payload)) => Err(unboxed(payload)),
            other => wrong_kind(other, "result"),
        }
    }

    fn unwrap_flags(&self) -> Box<dyn Iterator<Item = Cow<'_, str>> + '_> {
        match &self.0 {
            Val::Flags(names) => Box::new(names.iter().map(|n| Cow::Borrowed(n.as_str()))),
            other => wrong_kind(other, "flags"),
        }
    }
}

/// A parsed `--invoke` call: `NAME(ARGS…)`, or a bare `NAME` for no
/// arguments.
pub struct Call<'a> {
    /// The whole text, for error positions.
    text: &'a str,
    /// The export name: a root export, then `#` and names inside instances.
    pub name: &'a str,
    /// The parenthesized arguments, parsed but not yet typed; `None` when
    /// there are none.
    args: Option<UntypedValue<'a>>,
    /// Where the arguments start in `text`.
    args_offset: usize,
}

impl<'a> Call<'a> {
    /// Splits `text` into the name and the arguments and parses the
    /// arguments as untyped WAVE.
    pub fn parse(text: &'a str) -> Result<Call<'a>> {
        let (name, args_offset) = match text.find('(') {
            Some(i) => (&text[..i], i),
            None => (text, text.len()),
        };
        let name = name.trim();
        if name.is_empty() {
            bail!("`{text}` names no function: write NAME(ARGS…), e.g. 'greet(\"you\")'");
        }
        let rest = &text[args_offset..];
        let empty = rest.trim().is_empty()
            || rest
                .trim()
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .is_some_and(|inner| inner.trim().is_empty());
        let mut call = Call {
            text,
            name,
            args: None,
            args_offset,
        };
        if !empty {
            call.args = Some(
                UntypedValue::parse(rest)
                    .map_err(|e| call.error("the arguments are not valid WAVE", &e))?,
            );
        }
        Ok(call)
    }

    /// The export path: the name split at `#`.
    pub fn path(&self) -> Vec<&'a str> {
        self.name.split('#').collect()
    }

    /// The arguments typed by `ty`'s parameters. Trailing `option`
    /// parameters may be left out and are `none`, as WAVE allows.
    pub fn args(&self, ty: &FuncType) -> Result<Vec<Val>> {
        let nodes: Vec<_> = match &self.args {
            Some(args) => args
                .node()
                .as_tuple()
                .map_err(|e| self.error("the arguments are not a list", &e))?
                .collect(),
            None => Vec::new(),
        };
        let required = ty
            .params
            .iter()
            .rposition(|(_, t)| !matches!(t, InterfaceType::Option(_)))
            .map_or(0, |i| i + 1);
        if nodes.len() > ty.params.len() || nodes.len() < required {
            bail!(
                "`{}` takes {} argument(s), {} given: {}",
                self.name,
                ty.params.len(),
                nodes.len(),
                signature(ty)
            );
        }
        let source = self.args.as_ref().map_or("", |a| a.source());
        ty.params
            .iter()
            .enumerate()
            .map(|(i, (name, t))| match nodes.get(i) {
                Some(node) => {
                    let val = node
                        .to_wasm_value::<WaveVal>(&WaveType(t.clone()), source)
                        .map_err(|e| self.error(&format!("argument `{name}` is not a {t}"), &e))?
                        .0;
                    // Checked here as well as when the call lowers it:
                    // there a mismatch would be reported as a trap of the
                    // canonical ABI, and it is the user's mistake.
                    val.matches_at(t, name)
                        .map_err(|e| anyhow::anyhow!("argument `{name}`: {e}"))?;
                    Ok(val)
                }
                None => Ok(Val::Option(None)),
            })
            .collect()
    }

    /// An error about the argument text, with its position in the call.
    fn error(&self, what: &str, e: &ParserError) -> anyhow::Error {
        let detail = match (e.detail(), std::error::Error::source(e)) {
            (Some(detail), _) => format!(": {detail}"),
            (None, Some(source)) => format!(": {source}"),
            (None, None) => String::new(),
        };
        let span = e.span();
        let at = self.args_offset + span.start;
        let near = self
            .text
            .get(at..self.args_offset + span.end)
            .filter(|s| !s.is_empty())
            .map_or_else(String::new, |s| format!(" `{s}`"));
        let column = self
            .text
            .get(..at)
            .map_or(at, |before| before.chars().count())
            + 1;
        anyhow::anyhow!(
            "{what}: {}{detail}, at column {column}{near} of `{}`",
            e.kind(),
            self.text
        )
    }
}

/// A value in WAVE.
pub fn format_val(val: Val) -> Result<String> {
    Ok(wasm_wave::to_string(&WaveVal(val))?)
}

/// `val` in WAVE, as a trace shows it: WAVE has no syntax for resource
/// handles, so a handle is written as the variant `own(N)` or `borrow(N)`;
/// and a value longer than [`TRACED_CHARS`] is cut short, saying so.
pub fn format_traced(val: &Val) -> String {
    fn handles_as_variants(val: &Val) -> Val {
        let each = |vals: &[Val]| vals.iter().map(handles_as_variants).collect();
        let boxed =
            |val: &Option<Box<Val>>| val.as_deref().map(|v| Box::new(handles_as_variants(v)));
        match val {
            Val::Resource(r) => {
                let case = if r.own { "own" } else { "borrow" };
                Val::Variant(case.to_owned(), Some(Box::new(Val::U32(r.handle))))
            }
            Val::List(items) => Val::List(each(items)),
            Val::Tuple(items) => Val::Tuple(each(items)),
            Val::Record(fields) => Val::Record(
                fields
                    .iter()
                    .map(|(name, v)| (name.clone(), handles_as_variants(v)))
                    .collect(),
            ),
            Val::Variant(case, payload) => Val::Variant(case.clone(), boxed(payload)),
            Val::Option(payload) => Val::Option(boxed(payload)),
            Val::Result(Ok(payload)) => Val::Result(Ok(boxed(payload))),
            Val::Result(Err(payload)) => Val::Result(Err(boxed(payload))),
            other => other.clone(),
        }
    }
    let val = handles_as_variants(val);
    let text = format_val(val.clone()).unwrap_or_else(|_| format!("{val:?}"));
    match text.char_indices().nth(TRACED_CHARS) {
        Some((cut, _)) => format!("{}… ({} chars)", &text[..cut], text.chars().count()),
        None => text,
    }
}

/// The most characters of one value a trace shows.
const TRACED_CHARS: usize = 120;

/// A function type in WIT syntax: `func(a: u32, s: string) -> string`.
pub fn signature(ty: &FuncType) -> String {
    let params: Vec<String> = ty
        .params
        .iter()
        .map(|(name, t)| format!("{name}: {t}"))
        .collect();
    match &ty.result {
        Some(result) => format!("func({}) -> {result}", params.join(", ")),
        None => format!("func({})", params.join(", ")),
    }
}

/// The name of every exported function as `--invoke` writes it (a root
/// export, then `#` and names inside exported instances), depth first in
/// export order.
pub fn export_names(exports: &[(String, ExportItem)]) -> Vec<String> {
    fn walk(items: &[(String, ExportItem)], prefix: &str, out: &mut Vec<String>) {
        for (name, item) in items {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}#{name}")
            };
            match item {
                ExportItem::Func(_) => out.push(path),
                ExportItem::Instance(inner) => walk(inner, &path, out),
            }
        }
    }
    let mut out = Vec::new();
    walk(exports, "", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use cmc_runtime::abi::LiftedIndex;

    fn ty(params: &[(&str, InterfaceType)], result: Option<InterfaceType>) -> FuncType {
        FuncType {
            params: params
                .iter()
                .map(|(n, t)| (n.to_string(), t.clone()))
                .collect(),
            result,
            is_async: false,
        }
    }

    #[test]
    fn calls_parse_names_paths_and_typed_arguments() {
        let point = InterfaceType::Record(vec![
            ("x".into(), InterfaceType::S32),
            ("y".into(), InterfaceType::S32),
        ]);
        let f = ty(
            &[
                ("n", InterfaceType::U8),
                ("s", InterfaceType::String),
                ("l", InterfaceType::List(Box::new(InterfaceType::U32))),
                ("p", point),
                ("o", InterfaceType::Option(Box::new(InterfaceType::Bool))),
            ],
            None,
        );
        let call = Call::parse(r#"wasi:cli/run@0.2.6#run(7, "x", [1, 2], {y: -1, x: 3})"#).unwrap();
        assert_eq!(call.path(), ["wasi:cli/run@0.2.6", "run"]);
        assert_eq!(
            call.args(&f).unwrap(),
            [
                Val::U8(7),
                Val::String("x".into()),
                Val::List(vec![Val::U32(1), Val::U32(2)]),
                Val::Record(vec![("x".into(), Val::S32(3)), ("y".into(), Val::S32(-1))]),
                Val::Option(None),
            ]
        );
        let bare = Call::parse("api#hello").unwrap();
        assert_eq!(bare.path(), ["api", "hello"]);
        assert_eq!(bare.args(&ty(&[], None)).unwrap(), []);
        assert!(
            Call::parse("f( )")
                .unwrap()
                .args(&ty(&[], None))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn bad_calls_say_what_and_where() {
        let f = ty(&[("n", InterfaceType::U8)], Some(InterfaceType::U8));
        let err = |text: &str| match Call::parse(text) {
            Ok(call) => call.args(&f).unwrap_err().to_string(),
            Err(e) => e.to_string(),
        };
        assert!(err("(1)").contains("names no function"));
        assert!(err("f(1,").contains("not valid WAVE"), "{}", err("f(1,"));
        assert!(err("f(1) x").contains("trailing characters"));
        assert!(err("f(300)").contains("argument `n` is not a u8"));
        assert!(err("f(1, 2)").contains("takes 1 argument(s), 2 given: func(n: u8) -> u8"));
        assert!(err("f").contains("0 given"));
        assert!(
            err(r#"f("x")"#).contains("column 3"),
            "{}",
            err(r#"f("x")"#)
        );
        let colors = ty(
            &[
                ("c", InterfaceType::Enum(vec!["red".into()])),
                ("f", InterfaceType::Flags(vec!["a".into(), "b".into()])),
            ],
            None,
        );
        let err = |text: &str| {
            Call::parse(text)
                .unwrap()
                .args(&colors)
                .unwrap_err()
                .to_string()
        };
        assert!(
            err("f(blue, {a})").contains(r#"unknown case "blue""#),
            "{}",
            err("f(blue, {a})")
        );
        assert!(
            err("f(red, {c})").contains(r#"unknown case "c""#),
            "{}",
            err("f(red, {c})")
        );
    }

    #[test]
    fn values_print_in_wave() {
        let cases = [
            (Val::String("a\"b".into()), r#""a\"b""#),
            (Val::List(vec![Val::U32(1), Val::U32(2)]), "[1, 2]"),
            (
                Val::Record(vec![
                    ("name".into(), Val::Char('x')),
                    ("n".into(), Val::F64(0.5)),
                ]),
                "{name: 'x', n: 0.5}",
            ),
            (Val::Tuple(vec![Val::Bool(true), Val::S8(-1)]), "(true, -1)"),
            (Val::Option(Some(Box::new(Val::U8(1)))), "some(1)"),
            (Val::Result(Err(None)), "err"),
            (
                Val::Variant("v".into(), Some(Box::new(Val::U16(2)))),
                "v(2)",
            ),
            (Val::Enum("red".into()), "red"),
            (Val::Flags(vec!["a".into(), "b".into()]), "{a, b}"),
            (Val::F32(f32::NAN), "nan"),
        ];
        for (val, text) in cases {
            assert_eq!(format_val(val).unwrap(), text);
        }
    }

    #[test]
    fn every_type_round_trips_through_wave() {
        let t = InterfaceType::Tuple(vec![
            InterfaceType::Variant(vec![
                ("a".into(), None),
                ("b".into(), Some(InterfaceType::S64)),
            ]),
            InterfaceType::Enum(vec!["x".into(), "y".into()]),
            InterfaceType::Flags(vec!["p".into(), "q".into()]),
            InterfaceType::Result {
                ok: Some(Box::new(InterfaceType::String)),
                err: None,
            },
            InterfaceType::List(Box::new(InterfaceType::F32)),
        ]);
        let text = r#"(b(-5), y, {q}, ok("z"), [1.5, -inf])"#;
        let val: WaveVal = wasm_wave::from_str(&WaveType(t.clone()), text).unwrap();
        val.0.matches(&t).unwrap();
        assert_eq!(format_val(val.0).unwrap(), text);
    }

    #[test]
    fn signatures_and_export_paths() {
        assert_eq!(
            signature(&ty(
                &[("a", InterfaceType::U32)],
                Some(InterfaceType::String)
            )),
            "func(a: u32) -> string"
        );
        assert_eq!(signature(&ty(&[], None)), "func()");
        let exports = vec![
            ("f".to_owned(), ExportItem::Func(LiftedIndex::from_u32(0))),
            (
                "api".to_owned(),
                ExportItem::Instance(vec![(
                    "g".to_owned(),
                    ExportItem::Func(LiftedIndex::from_u32(1)),
                )]),
            ),
        ];
        assert_eq!(export_names(&exports), ["f", "api#g"]);
    }
}

//! Tables nothing can change after instantiation.
//!
//! A table the module defines, neither imports nor exports, and never
//! writes (no `table.set`, `table.grow`, `table.fill`, `table.init` or
//! `table.copy` into it) holds, for the whole life of an instance, what its
//! active element segments put there, and keeps its initial size. When
//! every segment's offset is a constant, the compiler knows its contents:
//! `call_indirect` through it bounds-checks against a constant, and when
//! every element is a function of one signature it needs neither the null
//! check nor the signature check (a C program's table of function pointers
//! is like this).

use super::FunctionToCompile;
use cmc_runtime::abi::{
    ConstOp, ElemItems, EntityIndex, EntityRef, FuncIndex, FuncType, ModuleMeta, PrimaryMap,
    SegmentMode, TableIndex,
};
use rayon::prelude::*;
use wasmparser::Operator;

/// The largest table whose contents are worked out (a bigger one is
/// treated as any other table).
const MAX_FIXED_LEN: u64 = 1 << 20;

/// What is known of a table that nothing changes.
#[derive(Clone, Debug, PartialEq)]
pub struct FixedTable {
    /// Its size, for ever.
    pub len: u32,
    /// The signature of every element, when all are functions of one
    /// signature (no null among them).
    pub uniform: Option<FuncType>,
}

/// The tables of `meta` that nothing can change, given the function bodies
/// that may write to them.
pub fn fixed_tables(
    meta: &ModuleMeta,
    bodies: &[FunctionToCompile<'_>],
) -> PrimaryMap<TableIndex, Option<FixedTable>> {
    let exported: Vec<TableIndex> = (meta.exports.iter())
        .filter_map(|e| match e.index {
            EntityIndex::Table(t) => Some(t),
            _ => None,
        })
        .collect();
    let written = written_tables(meta.tables.len(), bodies);
    let candidate = |t: TableIndex| {
        t.as_u32() >= meta.num_imported_tables && !exported.contains(&t) && !written[t.index()]
    };
    (meta.tables.iter())
        .map(|(t, ty)| {
            candidate(t)
                .then(|| contents(meta, t, ty.limits.min))
                .flatten()
        })
        .collect()
}

/// Which tables some body writes to. A body that does not decode marks
/// them all (validation reports it when it is translated).
fn written_tables(count: usize, bodies: &[FunctionToCompile<'_>]) -> Vec<bool> {
    let none = || vec![false; count];
    bodies
        .par_iter()
        .map(|(_, body)| {
            let mut written = none();
            if mark_writes(body, &mut written).is_err() {
                written = vec![true; count];
            }
            written
        })
        .reduce(none, |mut a, b| {
            a.iter_mut().zip(b).for_each(|(a, b)| *a |= b);
            a
        })
}

fn mark_writes(
    body: &wasmparser::FunctionBody<'_>,
    written: &mut [bool],
) -> wasmparser::Result<()> {
    let mut ops = body.get_operators_reader()?;
    while !ops.eof() {
        let table = match ops.read()? {
            Operator::TableSet { table }
            | Operator::TableGrow { table }
            | Operator::TableFill { table }
            | Operator::TableInit { table, .. }
            | Operator::TableCopy {
                dst_table: table, ..
            } => table,
            _ => continue,
        };
        if let Some(w) = written.get_mut(table as usize) {
            *w = true;
        }
    }
    Ok(())
}

/// The contents of table `table` of `len` elements after instantiation, if
/// every segment that writes it has a constant offset and fits.
fn contents(meta: &ModuleMeta, table: TableIndex, len: u64) -> Option<FixedTable> {
    if len > MAX_FIXED_LEN {
        return None;
    }
    let len = len as u32;
    let mut elements: Vec<Option<FuncIndex>> = vec![None; len as usize];
    for segment in meta.elems.values() {
        let SegmentMode::Active { index, offset } = &segment.mode else {
            continue;
        };
        if *index != table {
            continue;
        }
        let [ConstOp::I32Const(offset)] = offset.0.as_slice() else {
            return None;
        };
        let items: Vec<Option<FuncIndex>> = match &segment.items {
            ElemItems::Funcs(funcs) => funcs.iter().copied().map(Some).collect(),
            ElemItems::Exprs(exprs) => (exprs.iter())
                .map(|e| match e.0.as_slice() {
                    [ConstOp::RefFunc(f)] => Some(Some(*f)),
                    [ConstOp::RefNull] => Some(None),
                    _ => None,
                })
                .collect::<Option<_>>()?,
        };
        // An out-of-bounds segment traps the instantiation, so no code ever
        // sees the table; it is left to the general path.
        let start = *offset as u32 as usize;
        elements
            .get_mut(start..start.checked_add(items.len())?)?
            .copy_from_slice(&items);
    }
    let mut types = elements.iter().map(|f| f.map(|f| meta.func_type(f)));
    let uniform = match types.next() {
        Some(Some(first)) if types.all(|t| t == Some(first)) => Some(first.clone()),
        _ => None,
    };
    Some(FixedTable { len, uniform })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::module::{features, translate_module};

    /// What `fixed_tables` says of table 0 of the module `wat`.
    fn table0(wat: &str) -> Option<FixedTable> {
        let wasm = wat::parse_str(wat).unwrap();
        let t = translate_module(&wasm, features(cmc_runtime::Proposals::default())).unwrap();
        fixed_tables(&t.meta, &t.bodies)[TableIndex::from_u32(0)].clone()
    }

    const FUNCS: &str = r#"
        (type $ii (func (param i32) (result i32)))
        (func $a (type $ii) local.get 0)
        (func $b (type $ii) local.get 0)
        (func $c (param i64) (result i64) local.get 0)"#;

    #[test]
    fn a_table_nothing_writes_is_known() {
        let fixed = table0(&format!(
            "(module {FUNCS} (table 3 funcref) (elem (i32.const 0) $a $b $a))"
        ));
        let ii = FuncType::new(
            [cmc_runtime::abi::ValType::I32],
            [cmc_runtime::abi::ValType::I32],
        );
        assert_eq!(
            fixed,
            Some(FixedTable {
                len: 3,
                uniform: Some(ii)
            })
        );
    }

    #[test]
    fn nulls_or_mixed_signatures_keep_the_checks() {
        let with_null = table0(&format!(
            "(module {FUNCS} (table 3 funcref) (elem (i32.const 0) $a $b))"
        ));
        assert_eq!(with_null.map(|f| (f.len, f.uniform)), Some((3, None)));
        let mixed = table0(&format!(
            "(module {FUNCS} (table 2 funcref) (elem (i32.const 0) $a $c))"
        ));
        assert_eq!(mixed.map(|f| f.uniform), Some(None));
    }

    #[test]
    fn tables_others_can_change_are_not_fixed() {
        let elem = "(elem (i32.const 0) $a)";
        for table in [
            "(table (export \"t\") 1 funcref)",
            "(table 1 funcref) (func (table.set 0 (i32.const 0) (ref.null func)))",
            "(table 1 funcref) (func (drop (table.grow 0 (ref.null func) (i32.const 1))))",
            "(table 1 funcref) (func (table.fill 0 (i32.const 0) (ref.null func) (i32.const 1)))",
            "(table 1 funcref) (func (table.copy (i32.const 0) (i32.const 0) (i32.const 1)))",
            "(table 1 funcref) (elem $p func $b) (func (table.init $p (i32.const 0) (i32.const 0) (i32.const 1)))",
        ] {
            assert_eq!(
                table0(&format!("(module {FUNCS} {table} {elem})")),
                None,
                "{table}"
            );
        }
        let imported = "(module (import \"m\" \"t\" (table 1 funcref)))";
        assert_eq!(table0(imported), None);
        let offset_from_import = format!(
            "(module (global $g (import \"m\" \"g\") i32) {FUNCS} (table 1 funcref) (elem (global.get $g) $b))"
        );
        assert_eq!(table0(&offset_from_import), None);
    }
}

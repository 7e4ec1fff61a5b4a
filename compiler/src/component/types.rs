//! Converting the validator's component types into cmc's interface types.
//!
//! The validator names resource types by [`ResourceId`]; the inliner maps the
//! ids it has seen in the current instantiation to the plan's
//! [`ResourceTypeId`]s and hands that map to the converter.

use super::compat::names::Renames;
use crate::error::{CompileError, Result};
use cmc_runtime::abi::ImportType;
use cmc_runtime::component::types::{FuncType, InterfaceType, ResourceTypeId};
use std::collections::HashMap;
use wasmparser::PrimitiveValType;
use wasmparser::collections::IndexMap;
use wasmparser::component_types::{
    ComponentAnyTypeId, ComponentDefinedType, ComponentDefinedTypeId, ComponentEntityType,
    ComponentFuncTypeId, ComponentItem, ComponentValType, ResourceId,
};
use wasmparser::types::Types;

/// The plan's resource type for each validator resource id in scope.
pub type ResourceMap = HashMap<ResourceId, ResourceTypeId>;

/// Looks types up in one component's index spaces.
pub struct TypeConverter<'t> {
    types: &'t Types,
    resources: &'t ResourceMap,
    renames: &'t Renames,
}

fn unsupported(what: String) -> CompileError {
    CompileError::Unsupported(what)
}

impl<'t> TypeConverter<'t> {
    /// A converter for the component whose validator produced `types`,
    /// with the resource types of the current instantiation and the names
    /// the validator saw respelled.
    pub fn new(
        types: &'t Types,
        resources: &'t ResourceMap,
        renames: &'t Renames,
    ) -> TypeConverter<'t> {
        TypeConverter {
            types,
            resources,
            renames,
        }
    }

    /// The plan's resource type for validator resource `id`.
    fn resource(&self, id: ResourceId) -> Result<ResourceTypeId> {
        self.resources.get(&id).copied().ok_or_else(|| {
            unsupported("a resource type whose definition the inliner did not reach".into())
        })
    }

    /// The type of component function `index`.
    pub fn func_type_at(&self, index: u32) -> Result<FuncType> {
        self.func_type(self.types.as_ref().component_function_at(index))
    }

    fn func_type(&self, id: ComponentFuncTypeId) -> Result<FuncType> {
        let f = &self.types[id];
        Ok(FuncType {
            is_async: f.async_,
            params: f
                .params
                .iter()
                .map(|(name, ty)| Ok((name.to_string(), self.val_type(ty)?)))
                .collect::<Result<_>>()?,
            result: f.result.as_ref().map(|t| self.val_type(t)).transpose()?,
        })
    }

    /// The interface type of a value type as the binary spells it (a
    /// `task.return`'s result, say): a primitive or a type index.
    pub fn val_type_at(&self, ty: &wasmparser::ComponentValType) -> Result<InterfaceType> {
        match *ty {
            wasmparser::ComponentValType::Primitive(p) => primitive(p),
            wasmparser::ComponentValType::Type(index) => {
                match self.types.as_ref().component_any_type_at(index) {
                    ComponentAnyTypeId::Defined(id) => self.defined(id),
                    _ => unreachable!("validated: a value type is a defined type"),
                }
            }
        }
    }

    fn val_type(&self, ty: &ComponentValType) -> Result<InterfaceType> {
        match ty {
            ComponentValType::Primitive(p) => primitive(*p),
            ComponentValType::Type(id) => self.defined(*id),
        }
    }

    fn boxed(&self, ty: &ComponentValType) -> Result<Box<InterfaceType>> {
        Ok(Box::new(self.val_type(ty)?))
    }

    fn defined(&self, id: ComponentDefinedTypeId) -> Result<InterfaceType> {
        Ok(match &self.types[id] {
            ComponentDefinedType::Primitive(p) => primitive(*p)?,
            ComponentDefinedType::Record(r) => InterfaceType::Record(
                r.fields
                    .iter()
                    .map(|(name, ty)| Ok((name.to_string(), self.val_type(ty)?)))
                    .collect::<Result<_>>()?,
            ),
            ComponentDefinedType::Variant(v) => InterfaceType::Variant(
                v.cases
                    .iter()
                    .map(|(name, case)| {
                        Ok((
                            name.to_string(),
                            case.ty.as_ref().map(|t| self.val_type(t)).transpose()?,
                        ))
                    })
                    .collect::<Result<_>>()?,
            ),
            ComponentDefinedType::List { element, .. } => InterfaceType::List(self.boxed(element)?),
            ComponentDefinedType::Tuple(t) => InterfaceType::Tuple(
                t.types
                    .iter()
                    .map(|t| self.val_type(t))
                    .collect::<Result<_>>()?,
            ),
            ComponentDefinedType::Flags(names) => {
                InterfaceType::Flags(names.iter().map(|n| n.to_string()).collect())
            }
            ComponentDefinedType::Enum(names) => {
                InterfaceType::Enum(names.iter().map(|n| n.to_string()).collect())
            }
            ComponentDefinedType::Option { ty, .. } => InterfaceType::Option(self.boxed(ty)?),
            ComponentDefinedType::Result { ok, err, .. } => InterfaceType::Result {
                ok: ok.as_ref().map(|t| self.boxed(t)).transpose()?,
                err: err.as_ref().map(|t| self.boxed(t)).transpose()?,
            },
            ComponentDefinedType::Own(r) => InterfaceType::Own(self.resource(r.resource())?),
            ComponentDefinedType::Borrow(r) => InterfaceType::Borrow(self.resource(r.resource())?),
            // The canonical ABI despecializes `map<K, V>` to
            // `list<tuple<K, V>>`, and so do cmc's values.
            ComponentDefinedType::Map { key, value, .. } => {
                InterfaceType::List(Box::new(InterfaceType::Tuple(vec![
                    self.val_type(key)?,
                    self.val_type(value)?,
                ])))
            }
            ComponentDefinedType::FixedLengthList { .. } => {
                return Err(unsupported("fixed-length lists".into()));
            }
            ComponentDefinedType::Stream { ty: t, .. } => {
                InterfaceType::Stream(t.as_ref().map(|t| self.boxed(t)).transpose()?)
            }
            ComponentDefinedType::Future { ty: t, .. } => {
                InterfaceType::Future(t.as_ref().map(|t| self.boxed(t)).transpose()?)
            }
        })
    }

    /// The type of the root import `name`.
    pub fn import_type(&self, name: &str) -> Result<ImportType> {
        let item = self
            .types
            .as_ref()
            .component_item_for_import(self.renames.validator_spelling(name))
            .expect("validated: the import exists");
        self.entity(&item.ty)
    }

    fn entity(&self, ty: &ComponentEntityType) -> Result<ImportType> {
        Ok(match ty {
            ComponentEntityType::Func(id) => ImportType::Func(self.func_type(*id)?),
            ComponentEntityType::Instance(id) => ImportType::Instance(
                self.types[*id]
                    .exports
                    .iter()
                    .map(|(name, item)| {
                        let name = self.renames.original(name).to_owned();
                        Ok((name, self.entity(&item.ty)?))
                    })
                    .collect::<Result<_>>()?,
            ),
            ComponentEntityType::Type {
                created: ComponentAnyTypeId::Resource(r),
                ..
            } => ImportType::Resource(self.resource(r.resource())?),
            ComponentEntityType::Type { .. } => ImportType::Type,
            ComponentEntityType::Module(id) => {
                let ty = &self.types[*id];
                ImportType::Module {
                    imports: ty.imports.keys().cloned().collect(),
                    exports: ty.exports.keys().cloned().collect(),
                }
            }
            ComponentEntityType::Component(id) => {
                let ty = &self.types[*id];
                let items = |items: &IndexMap<String, ComponentItem>| {
                    (items.iter())
                        .map(|(name, item)| {
                            let name = self.renames.original(name).to_owned();
                            Ok((name, self.entity(&item.ty)?))
                        })
                        .collect::<Result<Vec<_>>>()
                };
                // Resource types in its type, which the plan cannot map,
                // make it a component cmc cannot link, not one it cannot
                // compile.
                match (items(&ty.imports), items(&ty.exports)) {
                    (Ok(imports), Ok(exports)) => ImportType::Component { imports, exports },
                    (Err(CompileError::Unsupported(what)), _)
                    | (_, Err(CompileError::Unsupported(what))) => {
                        ImportType::Other(format!("a component whose type has {what}"))
                    }
                    (Err(other), _) | (_, Err(other)) => return Err(other),
                }
            }
            ComponentEntityType::Value(_) => ImportType::Other("a value".into()),
        })
    }
}

fn primitive(p: PrimitiveValType) -> Result<InterfaceType> {
    Ok(match p {
        PrimitiveValType::Bool => InterfaceType::Bool,
        PrimitiveValType::S8 => InterfaceType::S8,
        PrimitiveValType::U8 => InterfaceType::U8,
        PrimitiveValType::S16 => InterfaceType::S16,
        PrimitiveValType::U16 => InterfaceType::U16,
        PrimitiveValType::S32 => InterfaceType::S32,
        PrimitiveValType::U32 => InterfaceType::U32,
        PrimitiveValType::S64 => InterfaceType::S64,
        PrimitiveValType::U64 => InterfaceType::U64,
        PrimitiveValType::F32 => InterfaceType::F32,
        PrimitiveValType::F64 => InterfaceType::F64,
        PrimitiveValType::Char => InterfaceType::Char,
        PrimitiveValType::String => InterfaceType::String,
        PrimitiveValType::ErrorContext => InterfaceType::ErrorContext,
    })
}

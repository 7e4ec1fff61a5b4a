//! The resource built-ins (`resource.new`, `resource.rep`, `resource.drop`)
//! as core functions over a component instance's handle table.

use super::context::handle_table;
use super::instance::{check_may_leave, import_names, on_first_use, run_dtor};
use super::linker::{Definition, HostDtor, Linker};
use crate::abi::{CoreDef, ResourceBuiltinIndex, ResourceDef, ResourceOp, ValType};
use crate::api::{AsStoreMut, Caller, Error, Func as CoreFunc, Store, Val as CoreVal};
use crate::canon::Dropped;

/// What `resource.drop` runs for an owned resource.
enum Destructor<T> {
    /// The linker's destructor of a host resource type.
    Host(HostDtor<T>),
    /// A guest-defined type's destructor function, if it has one.
    Guest(Option<CoreDef>),
}

/// The core function for resource built-in `i`, created on first use.
pub(super) fn builtin_func<T: 'static>(
    store: &mut Store<T>,
    linker: &Linker<T>,
    instance: usize,
    i: ResourceBuiltinIndex,
) -> Result<CoreFunc, Error> {
    on_first_use(
        store,
        instance,
        |d| &mut d.builtins,
        i,
        |store| {
            let component = store.inner.component_instances[instance].component.clone();
            let builtin = component.meta().builtins[i];
            let (ty, table) = (builtin.resource, builtin.instance);
            let i32_ty = || crate::abi::FuncType::new([ValType::I32], [ValType::I32]);
            let func = match builtin.op {
                ResourceOp::New => {
                    CoreFunc::new(store, i32_ty(), move |mut caller, params, results| {
                        let store = caller.as_store_mut();
                        check_may_leave(store, instance, table)?;
                        let handle =
                            handle_table(store, instance, table).new_own(ty, arg(params))?;
                        results[0] = CoreVal::I32(handle as i32);
                        Ok(())
                    })
                }
                ResourceOp::Rep => {
                    CoreFunc::new(store, i32_ty(), move |mut caller, params, results| {
                        let store = caller.as_store_mut();
                        let rep = handle_table(store, instance, table).rep(arg(params), ty)?;
                        results[0] = CoreVal::I32(rep as i32);
                        Ok(())
                    })
                }
                ResourceOp::Drop => {
                    let dtor = match &component.meta().resources[ty] {
                        ResourceDef::Host(path) => {
                            match linker.get(&import_names(&component, path)) {
                                Some(Definition::Resource(dtor)) => Destructor::Host(dtor.clone()),
                                _ => {
                                    return Err(Error::Link(format!(
                                        "unknown import: resource `{}` has not been defined",
                                        import_names(&component, path).join("#")
                                    )));
                                }
                            }
                        }
                        ResourceDef::Guest { dtor, .. } => Destructor::Guest(dtor.clone()),
                    };
                    let drop_ty = crate::abi::FuncType::new([ValType::I32], []);
                    CoreFunc::new(
                        store,
                        drop_ty,
                        move |mut caller: Caller<'_, T>, params, _| {
                            let store = caller.as_store_mut();
                            check_may_leave(store, instance, table)?;
                            let Dropped::Own { rep } =
                                handle_table(store, instance, table).drop(arg(params), ty)?
                            else {
                                return Ok(());
                            };
                            match &dtor {
                                Destructor::Host(dtor) => dtor(caller.reborrow(), rep),
                                Destructor::Guest(dtor) => {
                                    run_dtor(store, instance, dtor.as_ref(), rep)
                                }
                            }
                        },
                    )
                }
            };
            Ok(func.internal(&mut store.inner))
        },
    )
}

/// The first (only) `i32` argument of a built-in, as the handle or
/// representation it is.
fn arg(params: &[CoreVal]) -> u32 {
    params[0].i32().unwrap_or_default() as u32
}

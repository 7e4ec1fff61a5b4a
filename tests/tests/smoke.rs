use cmc_runtime::{Config, Linker, Module, Store, Val};

#[test]
fn fib() {
    let engine = cmc_compiler::engine(Config::default());
    let module = Module::new(&engine, std::fs::read("../examples/fib.wat").unwrap()).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new().instantiate(&mut store, &module).unwrap();
    let fib = instance.get_func(&store, "fib").unwrap();
    let mut r = [Val::I32(0)];
    fib.call(&mut store, &[Val::I32(20)], &mut r).unwrap();
    assert_eq!(r[0], Val::I32(6765));
}

//! Backpressure holding a caller (`tests/components/backpressure.wat`):
//! a component's async call into another that holds backpressure waits to
//! start (`STARTING`) and starts once the callee releases it; the host's
//! call into a held instance, which nothing will release, is the event
//! loop's deadlock, not a hang.

use super::{call_component, instantiate_component};
use cmc_runtime::component::Val;

const WAT: &str = include_str!("../../components/backpressure.wat");

#[test]
fn a_held_callee_starts_the_callers_task_once_it_releases() {
    let (mut store, instance) = instantiate_component(WAT);
    // x + 1, plus 1000 per task that entered the callee so far: each run's
    // one task, after the release.
    for (x, expected) in [(5, 1006), (9, 2010)] {
        let got = call_component(&mut store, &instance, "run", &[Val::U32(x)]).unwrap();
        assert_eq!(got, Val::U32(expected));
    }
}

#[test]
fn the_hosts_call_into_a_held_instance_with_no_one_to_release_it_deadlocks() {
    let (mut store, instance) = instantiate_component(WAT);
    let hold = instance.get_func(&store, &["hold"]).unwrap();
    hold.call(&mut store, &[], &mut []).unwrap();
    let err = call_component(&mut store, &instance, "work", &[Val::U32(1)]).unwrap_err();
    assert!(err.to_string().contains("deadlock"), "{err}");
}

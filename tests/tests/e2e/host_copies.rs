//! Streams and futures with one end in the host
//! (`tests/components/host_copies.wat`): the host writes a stream a
//! component reads and resolves a future a component waits for, before
//! the call or while the component's read is pending; it reads a stream
//! and a future that a component's task goes on writing after it
//! returned; and misuse is refused by name.

use super::engine;
use cmc_runtime::component::{Component, HostWriter, Instance, Linker, Val};
use cmc_runtime::{Error, Store};

/// The writer `ping` writes 42 to, if any.
type Host = Option<HostWriter>;

fn instance() -> (Store<Host>, Instance) {
    let wat = include_str!("../../components/host_copies.wat");
    let component = Component::new(&engine(), wat).expect("component compiles");
    let mut store = Store::new(component.engine(), None);
    let mut linker = Linker::<Host>::new();
    linker.root().func_new("ping", |mut caller, _, _| {
        if let Some(mut writer) = caller.data_mut().take() {
            assert!(writer.write(&mut caller, vec![Val::U32(42)])?);
            writer.close(&mut caller)?;
        }
        Ok(())
    });
    let instance = linker
        .instantiate(&mut store, &component)
        .expect("component instantiates");
    (store, instance)
}

fn call(
    store: &mut Store<Host>,
    instance: &Instance,
    name: &str,
    args: &[Val],
) -> Result<Val, Error> {
    super::call_component(store, instance, name, args)
}

/// The type of export `name`'s first parameter.
fn param_type(
    store: &Store<Host>,
    instance: &Instance,
    name: &str,
) -> cmc_runtime::component::InterfaceType {
    let func = instance.get_func(store, &[name]).expect("export exists");
    func.ty(store).params[0].1.clone()
}

#[test]
fn a_component_reads_what_the_host_wrote_to_a_stream() {
    let (mut store, instance) = instance();
    let ty = param_type(&store, &instance, "sum");
    let (mut writer, stream) = instance.host_writer(&mut store, &ty).unwrap();
    // Ten values in writes of 3, 7 and none, which its reads of 4 take.
    let values = |r: std::ops::Range<u32>| r.map(Val::U32).collect::<Vec<_>>();
    assert!(writer.write(&mut store, values(1..4)).unwrap());
    assert!(writer.write(&mut store, values(4..11)).unwrap());
    assert!(writer.write(&mut store, Vec::new()).unwrap());
    writer.close(&mut store).unwrap();
    assert_eq!(
        call(&mut store, &instance, "sum", &[stream]).unwrap(),
        Val::U32(55)
    );
}

#[test]
fn a_future_the_host_resolves_before_the_call_is_read_at_once() {
    let (mut store, instance) = instance();
    let ty = param_type(&store, &instance, "await");
    let (mut writer, future) = instance.host_writer(&mut store, &ty).unwrap();
    assert!(writer.write(&mut store, vec![Val::U32(7)]).unwrap());
    writer.close(&mut store).unwrap();
    assert_eq!(
        call(&mut store, &instance, "await", &[future]).unwrap(),
        Val::U32(7)
    );
}

#[test]
fn a_future_the_host_resolves_while_the_read_waits_completes_it() {
    let (mut store, instance) = instance();
    let ty = param_type(&store, &instance, "await");
    let (writer, future) = instance.host_writer(&mut store, &ty).unwrap();
    // `ping`, called after the read blocked, writes it.
    *store.data_mut() = Some(writer);
    assert_eq!(
        call(&mut store, &instance, "await", &[future]).unwrap(),
        Val::U32(42)
    );
    assert!(store.data().is_none(), "ping wrote the future");
}

#[test]
fn the_host_reads_a_stream_its_writer_fills_after_returning() {
    let (mut store, instance) = instance();
    let stream = call(&mut store, &instance, "produce", &[Val::U32(20)]).unwrap();
    let mut reader = instance.host_reader(&mut store, &stream).unwrap();
    let mut got = Vec::new();
    // Reads of 5 from writes of 3: each read takes what one write offers.
    while let Some(chunk) = reader.read(&mut store, 5).unwrap() {
        assert!(chunk.len() <= 3, "{chunk:?}");
        got.extend(chunk);
    }
    assert_eq!(got, (0..20).map(Val::U32).collect::<Vec<_>>());
    assert_eq!(reader.read(&mut store, 5).unwrap(), None, "it stays ended");
    reader.close(&mut store).unwrap();
}

#[test]
fn a_task_that_went_on_consumes_the_hosts_writes_when_the_host_runs_it() {
    let (mut store, instance) = instance();
    let ty = param_type(&store, &instance, "start-sum");
    let (mut writer, stream) = instance.host_writer(&mut store, &ty).unwrap();
    // The task returns at once and blocks in its first read.
    call(&mut store, &instance, "start-sum", &[stream]).unwrap();
    assert!(
        !instance.run_pending(&mut store).unwrap(),
        "nothing to run yet"
    );
    for chunk in [
        vec![Val::U32(1), Val::U32(2)],
        vec![Val::U32(3), Val::U32(4)],
    ] {
        writer.write(&mut store, chunk).unwrap();
        assert!(
            instance.run_pending(&mut store).unwrap(),
            "the read completed"
        );
    }
    assert_eq!(
        call(&mut store, &instance, "last-sum", &[]).unwrap(),
        Val::U32(0)
    );
    writer.close(&mut store).unwrap();
    assert!(instance.run_pending(&mut store).unwrap());
    assert_eq!(
        call(&mut store, &instance, "last-sum", &[]).unwrap(),
        Val::U32(10)
    );
}

#[test]
fn bytes_cross_a_stream_u8_both_ways_without_a_value_per_byte() {
    let (mut store, instance) = instance();
    let n = 1 << 20;
    let pattern = |k: usize| (k % 251) as u8;
    // The host writes 1 MiB in writes of 64 KiB; the component sums it.
    let ty = param_type(&store, &instance, "sum-bytes");
    let (mut writer, stream) = instance.host_writer(&mut store, &ty).unwrap();
    let bytes: Vec<u8> = (0..n).map(pattern).collect();
    for (i, chunk) in bytes.chunks(65536).enumerate() {
        // Bytes and values mix on the writer's side too.
        let written = match i % 2 {
            0 => writer.write_bytes(&mut store, chunk),
            _ => writer.write(&mut store, chunk.iter().map(|&b| Val::U8(b)).collect()),
        };
        assert!(written.unwrap());
    }
    writer.close(&mut store).unwrap();
    let sum: u32 = bytes.iter().map(|&b| u32::from(b)).sum();
    assert_eq!(
        call(&mut store, &instance, "sum-bytes", &[stream]).unwrap(),
        Val::U32(sum)
    );
    // The component writes 1 MiB; the host reads it in reads of 10,000.
    let stream = call(
        &mut store,
        &instance,
        "produce-bytes",
        &[Val::U32(n as u32)],
    )
    .unwrap();
    let mut reader = instance.host_reader(&mut store, &stream).unwrap();
    let mut got = Vec::new();
    while let Some(chunk) = reader.read_bytes(&mut store, 10_000).unwrap() {
        got.extend(chunk);
    }
    assert_eq!(got, bytes);
    // Values and bytes mix on a stream<u8>; other streams take values only.
    let stream = call(&mut store, &instance, "produce-bytes", &[Val::U32(3)]).unwrap();
    let mut reader = instance.host_reader(&mut store, &stream).unwrap();
    assert_eq!(
        reader.read(&mut store, 2).unwrap(),
        Some(vec![Val::U8(0), Val::U8(1)])
    );
    let ty = param_type(&store, &instance, "sum");
    let (mut writer, _) = instance.host_writer(&mut store, &ty).unwrap();
    let err = writer.write_bytes(&mut store, b"x").unwrap_err();
    assert!(err.to_string().contains("writes a stream<u8>"), "{err}");
    // Reading bytes of another stream is refused before anything is taken.
    let stream = call(&mut store, &instance, "produce", &[Val::U32(6)]).unwrap();
    let mut reader = instance.host_reader(&mut store, &stream).unwrap();
    let err = reader.read_bytes(&mut store, 5).unwrap_err();
    assert!(err.to_string().contains("reads a stream<u8>"), "{err}");
    let first = reader.read(&mut store, 5).unwrap().unwrap();
    assert_eq!(first, [Val::U32(0), Val::U32(1), Val::U32(2)]);
}

#[test]
fn a_read_of_nothing_past_the_end_of_memory_completes() {
    let (mut store, instance) = instance();
    let ty = param_type(&store, &instance, "read-nothing");
    let (mut writer, stream) = instance.host_writer(&mut store, &ty).unwrap();
    writer.write_bytes(&mut store, b"queued").unwrap();
    // COMPLETED (0) with nothing copied: the buffer is never touched.
    let got = call(&mut store, &instance, "read-nothing", &[stream]).unwrap();
    assert_eq!(got, Val::U32(0));
}

#[test]
fn run_pending_returns_while_a_task_yields_forever() {
    let (mut store, instance) = instance();
    assert_eq!(
        call(&mut store, &instance, "spin", &[]).unwrap(),
        Val::U32(0)
    );
    for _ in 0..3 {
        assert!(
            instance.run_pending(&mut store).unwrap(),
            "it ran the yielding task once"
        );
    }
    // Calls go on around it.
    let future = call(&mut store, &instance, "promise", &[]).unwrap();
    let mut reader = instance.host_reader(&mut store, &future).unwrap();
    assert_eq!(
        reader.read(&mut store, 1).unwrap(),
        Some(vec![Val::U32(42)])
    );
}

#[test]
fn a_read_of_nothing_leaves_the_write_waiting() {
    let (mut store, instance) = instance();
    let stream = call(&mut store, &instance, "produce", &[Val::U32(5)]).unwrap();
    let mut reader = instance.host_reader(&mut store, &stream).unwrap();
    assert_eq!(reader.read(&mut store, 0).unwrap(), Some(Vec::new()));
    let first = reader.read(&mut store, 5).unwrap().unwrap();
    assert_eq!(first, [Val::U32(0), Val::U32(1), Val::U32(2)]);
}

#[test]
fn a_read_that_nothing_can_serve_fails_without_poisoning() {
    let (mut store, instance) = instance();
    let stream = call(&mut store, &instance, "idle", &[]).unwrap();
    let mut reader = instance.host_reader(&mut store, &stream).unwrap();
    let err = reader.read(&mut store, 4).unwrap_err();
    assert!(err.to_string().contains("must come from the host"), "{err}");
    // The instance goes on.
    let future = call(&mut store, &instance, "promise", &[]).unwrap();
    let mut reader = instance.host_reader(&mut store, &future).unwrap();
    assert_eq!(
        reader.read(&mut store, 1).unwrap(),
        Some(vec![Val::U32(42)])
    );
}

#[test]
fn the_host_reads_a_future_its_writer_resolves_after_returning() {
    let (mut store, instance) = instance();
    let future = call(&mut store, &instance, "promise", &[]).unwrap();
    let mut reader = instance.host_reader(&mut store, &future).unwrap();
    assert_eq!(
        reader.read(&mut store, 1).unwrap(),
        Some(vec![Val::U32(42)])
    );
    assert_eq!(reader.read(&mut store, 1).unwrap(), None);
    reader.close(&mut store).unwrap();
}

#[test]
fn a_reader_that_drops_its_end_stops_the_host_writer() {
    let (mut store, instance) = instance();
    let ty = param_type(&store, &instance, "sum");
    let (mut writer, stream) = instance.host_writer(&mut store, &ty).unwrap();
    assert!(writer.write(&mut store, vec![Val::U32(1)]).unwrap());
    call(&mut store, &instance, "drop-it", &[stream]).unwrap();
    assert!(
        !writer.write(&mut store, vec![Val::U32(2)]).unwrap(),
        "the reader is gone"
    );
    writer.close(&mut store).unwrap();
}

#[test]
fn misuse_of_host_ends_is_refused_by_name() {
    let (mut store, instance) = instance();
    let ty = param_type(&store, &instance, "await");
    let err = instance
        .host_writer(&mut store, &cmc_runtime::component::InterfaceType::U32)
        .unwrap_err();
    assert!(
        err.to_string().contains("not a stream or future type"),
        "{err}"
    );
    let (mut writer, future) = instance.host_writer(&mut store, &ty).unwrap();
    let err = writer.write(&mut store, vec![]).unwrap_err();
    assert!(
        err.to_string().contains("a future takes one value, not 0"),
        "{err}"
    );
    let err = writer
        .write(&mut store, vec![Val::String("x".into())])
        .unwrap_err();
    assert!(err.to_string().contains("string"), "{err}");
    writer.write(&mut store, vec![Val::U32(1)]).unwrap();
    let err = writer.write(&mut store, vec![Val::U32(1)]).unwrap_err();
    assert!(err.to_string().contains("written already"), "{err}");
    // The host's own writer's readable end is not the host's to read.
    let err = instance.host_reader(&mut store, &future).unwrap_err();
    assert!(
        err.to_string()
            .contains("not a readable end in the host's hands"),
        "{err}"
    );
    // A stream's value named as a future is refused.
    let stream = call(&mut store, &instance, "produce", &[Val::U32(1)]).unwrap();
    let Val::Stream(id) = stream else {
        panic!("produce returns a stream, got {stream:?}")
    };
    let err = instance
        .host_reader(&mut store, &Val::Future(id))
        .unwrap_err();
    assert!(err.to_string().contains("not a readable end"), "{err}");
    // A stream the host reads cannot be passed on.
    let stream = call(&mut store, &instance, "produce", &[Val::U32(1)]).unwrap();
    let _reader = instance.host_reader(&mut store, &stream).unwrap();
    let err = call(&mut store, &instance, "sum", &[stream]).unwrap_err();
    assert!(err.to_string().contains("is not a readable end"), "{err}");
}

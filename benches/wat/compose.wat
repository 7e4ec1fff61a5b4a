;; Component-to-component call overhead: `$callee` lifts `inc(x: u32) ->
;; u32` and `len(s: string) -> u32`; `$caller` lowers both and calls them
;; `n` times in a loop from its exported `run-inc(n)` / `run-len(n)` (the
;; string is 64 bytes of the caller's memory, copied into the callee through
;; its `realloc` on every call). `len16` takes the same string as utf16
;; (the callee's encoding), so each call transcodes it; `from16` passes
;; 32 utf16 code units (64 bytes) of a utf16 caller to the utf8 `len`, the
;; other way; `count` takes a
;; `list<record { a: u32, b: u32 }>` of 8 records. Each engine compiles the
;; cross-component calls its own way: one native fused adapter per lowering
;; in wasmtime.
(component
  (component $callee
    (core module $m
      (memory (export "memory") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (i32.const 1024))
      (func (export "inc") (param i32) (result i32)
        (i32.add (local.get 0) (i32.const 1)))
      (func (export "len") (param i32 i32) (result i32)
        (local.get 1))
      (func (export "count") (param i32 i32) (result i32)
        (local.get 1)))
    (core instance $i (instantiate $m))
    (type $r' (record (field "a" u32) (field "b" u32)))
    (export $r "r" (type $r'))
    (func (export "inc") (param "x" u32) (result u32)
      (canon lift (core func $i "inc")))
    (func (export "len") (param "s" string) (result u32)
      (canon lift (core func $i "len")
        (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
    (func (export "len16") (param "s" string) (result u32)
      (canon lift (core func $i "len") string-encoding=utf16
        (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
    (func (export "count") (param "xs" (list $r)) (result u32)
      (canon lift (core func $i "count")
        (memory (core memory $i "memory")) (realloc (core func $i "realloc")))))
  (component $caller
    (import "inc" (func $inc (param "x" u32) (result u32)))
    (import "len" (func $len (param "s" string) (result u32)))
    (import "len16" (func $len16 (param "s" string) (result u32)))
    (import "len8" (func $len8 (param "s" string) (result u32)))
    (type $r' (record (field "a" u32) (field "b" u32)))
    (import "r" (type $r (eq $r')))
    (import "count" (func $count (param "xs" (list $r)) (result u32)))
    (core module $mem (memory (export "memory") 1))
    (core instance $mem (instantiate $mem))
    (core func $inc (canon lower (func $inc)))
    (core func $len (canon lower (func $len) (memory (core memory $mem "memory"))))
    (core func $len16 (canon lower (func $len16) (memory (core memory $mem "memory"))))
    (core func $len8 (canon lower (func $len8) string-encoding=utf16
      (memory (core memory $mem "memory"))))
    (core func $count (canon lower (func $count) (memory (core memory $mem "memory"))))
    (core module $main
      (import "" "inc" (func $inc (param i32) (result i32)))
      (import "" "len" (func $len (param i32 i32) (result i32)))
      (import "" "len16" (func $len16 (param i32 i32) (result i32)))
      (import "" "len8" (func $len8 (param i32 i32) (result i32)))
      (import "" "count" (func $count (param i32 i32) (result i32)))
      (func (export "run-inc") (param $n i32) (result i32)
        (local $acc i32)
        (block $done
          (loop $l
            (br_if $done (i32.eqz (local.get $n)))
            (local.set $acc (call $inc (local.get $acc)))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br $l)))
        (local.get $acc))
      (func (export "run-len") (param $n i32) (result i32)
        (local $acc i32)
        (block $done
          (loop $l
            (br_if $done (i32.eqz (local.get $n)))
            (local.set $acc
              (i32.add (local.get $acc) (call $len (i32.const 0) (i32.const 64))))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br $l)))
        (local.get $acc))
      (func (export "run-len16") (param $n i32) (result i32)
        (local $acc i32)
        (block $done
          (loop $l
            (br_if $done (i32.eqz (local.get $n)))
            (local.set $acc
              (i32.add (local.get $acc) (call $len16 (i32.const 0) (i32.const 64))))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br $l)))
        (local.get $acc))
      (func (export "run-from16") (param $n i32) (result i32)
        (local $acc i32)
        (block $done
          (loop $l
            (br_if $done (i32.eqz (local.get $n)))
            (local.set $acc
              (i32.add (local.get $acc) (call $len8 (i32.const 0) (i32.const 32))))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br $l)))
        (local.get $acc))
      (func (export "run-count") (param $n i32) (result i32)
        (local $acc i32)
        (block $done
          (loop $l
            (br_if $done (i32.eqz (local.get $n)))
            (local.set $acc
              (i32.add (local.get $acc) (call $count (i32.const 0) (i32.const 8))))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br $l)))
        (local.get $acc)))
    (core instance $main (instantiate $main
      (with "" (instance (export "inc" (func $inc)) (export "len" (func $len))
        (export "len16" (func $len16)) (export "len8" (func $len8))
        (export "count" (func $count))))))
    (func (export "run-inc") (param "n" u32) (result u32)
      (canon lift (core func $main "run-inc")))
    (func (export "run-len") (param "n" u32) (result u32)
      (canon lift (core func $main "run-len")))
    (func (export "run-len16") (param "n" u32) (result u32)
      (canon lift (core func $main "run-len16")))
    (func (export "run-from16") (param "n" u32) (result u32)
      (canon lift (core func $main "run-from16")))
    (func (export "run-count") (param "n" u32) (result u32)
      (canon lift (core func $main "run-count"))))
  (instance $callee (instantiate $callee))
  (instance $caller (instantiate $caller
    (with "inc" (func $callee "inc")) (with "len" (func $callee "len"))
    (with "len16" (func $callee "len16")) (with "len8" (func $callee "len"))
    (with "r" (type $callee "r"))
    (with "count" (func $callee "count"))))
  (export "run-inc" (func $caller "run-inc"))
  (export "run-len" (func $caller "run-len"))
  (export "run-len16" (func $caller "run-len16"))
  (export "run-from16" (func $caller "run-from16"))
  (export "run-count" (func $caller "run-count")))

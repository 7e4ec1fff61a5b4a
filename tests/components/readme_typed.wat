;; The component of README.md's typed-API example: `lookup(key)` returns an
;; entry for a five-letter key and none otherwise, and logs either through
;; the host's `write(level, text)`.
(component
  (import "example:log/sink" (instance $sink
    (type $level' (enum "info" "warn"))
    (export "level" (type $level (eq $level')))
    (export "write" (func (param "level" $level) (param "text" string)))))
  (alias export $sink "write" (func $write))
  (core module $libc
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $ptr i32)
      (local.set $ptr
        (i32.and
          (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get 2))))
      (global.set $next (i32.add (local.get $ptr) (local.get 3)))
      (local.get $ptr))
    (data (i32.const 100) "foundmissing"))
  (core instance $libc (instantiate $libc))
  (core func $write (canon lower (func $write) (memory (core memory $libc "memory"))))
  (core module $m
    (import "libc" "memory" (memory 1))
    (import "sink" "write" (func $write (param i32 i32 i32)))
    ;; option<entry> at 16: discriminant, then id at 24 and the name at 32.
    (func (export "lookup") (param $ptr i32) (param $len i32) (result i32)
      (if (i32.eq (local.get $len) (i32.const 5))
        (then
          (call $write (i32.const 0) (i32.const 100) (i32.const 5))
          (i32.store8 (i32.const 16) (i32.const 1))
          (i64.store (i32.const 24) (i64.const 7))
          (i32.store (i32.const 32) (local.get $ptr))
          (i32.store (i32.const 36) (local.get $len)))
        (else
          (call $write (i32.const 1) (i32.const 105) (i32.const 7))
          (i32.store8 (i32.const 16) (i32.const 0))))
      (i32.const 16)))
  (core instance $m (instantiate $m
    (with "libc" (instance $libc))
    (with "sink" (instance (export "write" (func $write))))))
  (type $entry' (record (field "id" u64) (field "display-name" string)))
  (export $entry "entry" (type $entry'))
  (func $lookup (param "key" string) (result (option $entry))
    (canon lift (core func $m "lookup")
      (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (instance $query
    (export "entry" (type $entry))
    (export "lookup" (func $lookup)))
  (export "example:db/query" (instance $query)))

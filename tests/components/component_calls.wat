;; One component calling another: `$D` imports `$C`'s instance and calls its
;; lifted functions through lowered imports, passing an owning handle, a
;; borrow of it and a string (copied from `$D`'s memory into `$C`'s, which
;; `$C`'s `realloc` allocates).
(component
  (component $C
    (core module $libc
      (memory (export "memory") 1)
      (global $next (mut i32) (i32.const 1024))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $ptr i32)
        (local.set $ptr (global.get $next))
        (global.set $next (i32.add (local.get $ptr) (local.get 3)))
        (local.get $ptr)))
    (core instance $libc (instantiate $libc))
    (type $r (resource (rep i32)))
    (export $R "r" (type $r))
    (core func $new (canon resource.new $r))
    (core module $m
      (import "" "new" (func $new (param i32) (result i32)))
      (import "libc" "memory" (memory 1))
      (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
      ;; The implementing instance receives the representation.
      (func (export "value") (param i32) (result i32) (local.get 0))
      ;; The string's length plus its first byte.
      (func (export "len") (param i32 i32) (result i32)
        (i32.add (local.get 1) (i32.load8_u (local.get 0)))))
    (core instance $m (instantiate $m
      (with "" (instance (export "new" (func $new))))
      (with "libc" (instance $libc))))
    (func (export "make") (param "v" u32) (result (own $R))
      (canon lift (core func $m "make")))
    (func (export "value") (param "r" (borrow $R)) (result u32)
      (canon lift (core func $m "value")))
    (func (export "len") (param "s" string) (result u32)
      (canon lift (core func $m "len")
        (memory (core memory $libc "memory")) (realloc (core func $libc "realloc")))))
  (component $D
    (import "c" (instance $c
      (export "r" (type $r (sub resource)))
      (export "make" (func (param "v" u32) (result (own $r))))
      (export "value" (func (param "r" (borrow $r)) (result u32)))
      (export "len" (func (param "s" string) (result u32)))))
    (alias export $c "r" (type $r))
    (core module $mem (memory (export "memory") 1) (data (i32.const 8) "hello"))
    (core instance $mem (instantiate $mem))
    (core func $make (canon lower (func $c "make")))
    (core func $value (canon lower (func $c "value")))
    (core func $len (canon lower (func $c "len") (memory (core memory $mem "memory"))))
    (core func $drop (canon resource.drop $r))
    (core module $m
      (import "" "make" (func $make (param i32) (result i32)))
      (import "" "value" (func $value (param i32) (result i32)))
      (import "" "len" (func $len (param i32 i32) (result i32)))
      (import "" "drop" (func $drop (param i32)))
      ;; value (40) + len (5 + 'h') + the handle's index (1).
      (func (export "run") (result i32)
        (local $h i32)
        (local.set $h (call $make (i32.const 40)))
        (i32.add
          (i32.add (call $value (local.get $h)) (call $len (i32.const 8) (i32.const 5)))
          (block (result i32) (call $drop (local.get $h)) (local.get $h)))))
    (core instance $m (instantiate $m (with "" (instance
      (export "make" (func $make))
      (export "value" (func $value))
      (export "len" (func $len))
      (export "drop" (func $drop))))))
    (func (export "run") (result u32) (canon lift (core func $m "run"))))
  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "c" (instance $c))))
  (export "run" (func $d "run")))

;; Host→component call overhead: `inc(x: u32) -> u32` and `len(s: string)
;; -> u32` lifted from a core module that also exports `inc` for the
;; core-export baseline. The string is copied into linear memory through
;; `realloc` (a bump allocator reset on every call).
(component
  (core module $m
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $ptr i32)
      ;; Every call of `len` allocates once: start over at 1024.
      (local.set $ptr (i32.const 1024))
      (global.set $next (i32.add (local.get $ptr) (local.get 3)))
      (local.get $ptr))
    (func (export "inc") (param i32) (result i32)
      (i32.add (local.get 0) (i32.const 1)))
    (func (export "len") (param i32 i32) (result i32)
      (local.get 1)))
  (core instance $i (instantiate $m))
  (func (export "inc") (param "x" u32) (result u32)
    (canon lift (core func $i "inc")))
  (func (export "len") (param "s" string) (result u32)
    (canon lift (core func $i "len")
      (memory (core memory $i "memory")) (realloc (core func $i "realloc")))))

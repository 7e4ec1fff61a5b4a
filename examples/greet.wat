;; A component with string, list and record values, for `cmc run --invoke`:
;;
;;   cmc run --invoke 'greet("cmc")' examples/greet.wat   # "Hello, cmc!"
;;   cmc run --invoke 'cmc:example/text#summarize([3, 1, 4])' examples/greet.wat
;;                                                        # {count: 3, sum: 8, max: 4}
;;   cmc run --invoke 'cmc:example/text#shout("hi")' examples/greet.wat   # "HI"
;;   cmc inspect examples/greet.wat                       # its WIT world
(component
  (core module $m
    (memory (export "memory") 1)
    (data (i32.const 0) "Hello, ")
    (global $next (mut i32) (i32.const 1024))
    ;; A bump allocator: realloc(old_ptr, old_size, align, new_size).
    (func $realloc (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $ptr i32)
      (local.set $ptr
        (i32.and
          (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get 2))))
      (global.set $next (i32.add (local.get $ptr) (local.get 3)))
      (if (i32.gt_u (global.get $next) (i32.mul (memory.size) (i32.const 65536)))
        (then (drop (memory.grow (i32.const 1)))))
      (local.get $ptr))
    ;; Returns the string (ptr, len) through the return area at 16.
    (func $string (param $ptr i32) (param $len i32) (result i32)
      (i32.store (i32.const 16) (local.get $ptr))
      (i32.store (i32.const 20) (local.get $len))
      (i32.const 16))
    ;; greet(name) = "Hello, " + name + "!"
    (func (export "greet") (param $name i32) (param $len i32) (result i32)
      (local $out i32) (local $out_len i32)
      (local.set $out_len (i32.add (local.get $len) (i32.const 8)))
      (local.set $out
        (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (local.get $out_len)))
      (memory.copy (local.get $out) (i32.const 0) (i32.const 7))
      (memory.copy
        (i32.add (local.get $out) (i32.const 7)) (local.get $name) (local.get $len))
      (i32.store8
        (i32.add (local.get $out) (i32.sub (local.get $out_len) (i32.const 1)))
        (i32.const 33))
      (call $string (local.get $out) (local.get $out_len)))
    ;; summarize(values) = {count, sum, max}, a record returned through the
    ;; 8-aligned return area at 32: count at +0, sum (u64) at +8, max at +16.
    (func (export "summarize") (param $ptr i32) (param $len i32) (result i32)
      (local $i i32) (local $v i32) (local $sum i64) (local $max i32)
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
          (local.set $v
            (i32.load (i32.add (local.get $ptr) (i32.shl (local.get $i) (i32.const 2)))))
          (local.set $sum (i64.add (local.get $sum) (i64.extend_i32_u (local.get $v))))
          (if (i32.gt_u (local.get $v) (local.get $max))
            (then (local.set $max (local.get $v))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (i32.store (i32.const 32) (local.get $len))
      (i64.store (i32.const 40) (local.get $sum))
      (i32.store (i32.const 48) (local.get $max))
      (i32.const 32))
    ;; shout(s) = s with ASCII letters upper-cased
    (func (export "shout") (param $s i32) (param $len i32) (result i32)
      (local $out i32) (local $i i32) (local $c i32)
      (local.set $out
        (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (local.get $len)))
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
          (local.set $c (i32.load8_u (i32.add (local.get $s) (local.get $i))))
          (if (i32.lt_u (i32.sub (local.get $c) (i32.const 97)) (i32.const 26))
            (then (local.set $c (i32.sub (local.get $c) (i32.const 32)))))
          (i32.store8 (i32.add (local.get $out) (local.get $i)) (local.get $c))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (call $string (local.get $out) (local.get $len))))
  (core instance $m (instantiate $m))

  (func (export "greet") (param "name" string) (result string)
    (canon lift (core func $m "greet")
      (memory (core memory $m "memory")) (realloc (core func $m "realloc"))))

  ;; An exported interface: its functions are called as `INTERFACE#NAME`.
  ;; The record type it uses is exported with it, under its WIT name.
  (type $stats (record (field "count" u32) (field "sum" u64) (field "max" u32)))
  (func $summarize (param "values" (list u32)) (result $stats)
    (canon lift (core func $m "summarize")
      (memory (core memory $m "memory")) (realloc (core func $m "realloc"))))
  (func $shout (param "s" string) (result string)
    (canon lift (core func $m "shout")
      (memory (core memory $m "memory")) (realloc (core func $m "realloc"))))
  (instance $text
    (export "stats" (type $stats))
    (export "summarize" (func $summarize))
    (export "shout" (func $shout)))
  (export "cmc:example/text" (instance $text)))

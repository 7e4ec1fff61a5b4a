;; A hand-written WASI 0.2.0 guest of `wasi:filesystem`: each export uses
;; the first preopen through the canonical ABI as a compiled guest would,
;; so the host's values are checked against the interface's real types.
(component
  (import "wasi:filesystem/types@0.2.0" (instance $types
    (export "descriptor" (type $d (sub resource)))
    (export "directory-entry-stream" (type $ds (sub resource)))
    (type $ec0 (enum "access" "would-block" "already" "bad-descriptor" "busy" "deadlock"
      "quota" "exist" "file-too-large" "illegal-byte-sequence" "in-progress" "interrupted"
      "invalid" "io" "is-directory" "loop" "too-many-links" "message-size" "name-too-long"
      "no-device" "no-entry" "no-lock" "insufficient-memory" "insufficient-space"
      "not-directory" "not-empty" "not-recoverable" "unsupported" "no-tty" "no-such-device"
      "overflow" "not-permitted" "pipe" "read-only" "invalid-seek" "text-file-busy"
      "cross-device"))
    (export "error-code" (type $ec (eq $ec0)))
    (type $dt0 (enum "unknown" "block-device" "character-device" "directory" "fifo"
      "symbolic-link" "regular-file" "socket"))
    (export "descriptor-type" (type $dt (eq $dt0)))
    (type $df0 (flags "read" "write" "file-integrity-sync" "data-integrity-sync"
      "requested-write-sync" "mutate-directory"))
    (export "descriptor-flags" (type $df (eq $df0)))
    (type $pf0 (flags "symlink-follow"))
    (export "path-flags" (type $pf (eq $pf0)))
    (type $of0 (flags "create" "directory" "exclusive" "truncate"))
    (export "open-flags" (type $of (eq $of0)))
    (type $time0 (record (field "seconds" u64) (field "nanoseconds" u32)))
    (export "datetime" (type $time (eq $time0)))
    (type $stat0 (record (field "type" $dt) (field "link-count" u64) (field "size" u64)
      (field "data-access-timestamp" (option $time))
      (field "data-modification-timestamp" (option $time))
      (field "status-change-timestamp" (option $time))))
    (export "descriptor-stat" (type $stat (eq $stat0)))
    (type $entry0 (record (field "type" $dt) (field "name" string)))
    (export "directory-entry" (type $entry (eq $entry0)))
    (type $hash0 (record (field "lower" u64) (field "upper" u64)))
    (export "metadata-hash-value" (type $hash (eq $hash0)))
    (export "[method]descriptor.open-at" (func (param "self" (borrow $d))
      (param "path-flags" $pf) (param "path" string) (param "open-flags" $of)
      (param "flags" $df) (result (result (own $d) (error $ec)))))
    (export "[method]descriptor.write" (func (param "self" (borrow $d))
      (param "buffer" (list u8)) (param "offset" u64) (result (result u64 (error $ec)))))
    (export "[method]descriptor.read" (func (param "self" (borrow $d))
      (param "length" u64) (param "offset" u64)
      (result (result (tuple (list u8) bool) (error $ec)))))
    (export "[method]descriptor.stat" (func (param "self" (borrow $d))
      (result (result $stat (error $ec)))))
    (export "[method]descriptor.get-flags" (func (param "self" (borrow $d))
      (result (result $df (error $ec)))))
    (export "[method]descriptor.read-directory" (func (param "self" (borrow $d))
      (result (result (own $ds) (error $ec)))))
    (export "[method]directory-entry-stream.read-directory-entry"
      (func (param "self" (borrow $ds)) (result (result (option $entry) (error $ec)))))
    (export "[method]descriptor.metadata-hash" (func (param "self" (borrow $d))
      (result (result $hash (error $ec)))))
    (export "[method]descriptor.metadata-hash-at" (func (param "self" (borrow $d))
      (param "path-flags" $pf) (param "path" string) (result (result $hash (error $ec)))))))
  (alias export $types "descriptor" (type $descriptor))
  (import "wasi:filesystem/preopens@0.2.0" (instance $preopens
    (alias outer 1 $descriptor (type $d0))
    (export "descriptor" (type $d (eq $d0)))
    (export "get-directories" (func (result (list (tuple (own $d) string)))))))

  ;; Memory and a bump allocator for the values the host returns.
  (core module $libc
    (memory (export "mem") 1)
    (global $next (mut i32) (i32.const 4096))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      ;; Round up to the alignment asked for.
      (local.set $at (i32.and
        (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get 2))))
      (global.set $next (i32.add (local.get $at) (local.get 3)))
      (local.get $at)))
  (core instance $libc (instantiate $libc))

  (core func $get_dirs (canon lower (func $preopens "get-directories")
    (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
  (core func $open_at (canon lower (func $types "[method]descriptor.open-at")
    (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
  (core func $write (canon lower (func $types "[method]descriptor.write")
    (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
  (core func $read (canon lower (func $types "[method]descriptor.read")
    (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
  (core func $stat (canon lower (func $types "[method]descriptor.stat")
    (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
  (core func $get_flags (canon lower (func $types "[method]descriptor.get-flags")
    (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
  (core func $read_dir (canon lower (func $types "[method]descriptor.read-directory")
    (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
  (core func $read_entry (canon lower
    (func $types "[method]directory-entry-stream.read-directory-entry")
    (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
  (core func $hash (canon lower (func $types "[method]descriptor.metadata-hash")
    (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
  (core func $hash_at (canon lower (func $types "[method]descriptor.metadata-hash-at")
    (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))

  (core module $m
    (import "libc" "mem" (memory 1))
    (import "wasi" "get-directories" (func $get_dirs (param i32)))
    (import "wasi" "open-at" (func $open_at (param i32 i32 i32 i32 i32 i32 i32)))
    (import "wasi" "write" (func $write (param i32 i32 i32 i64 i32)))
    (import "wasi" "read" (func $read (param i32 i64 i64 i32)))
    (import "wasi" "stat" (func $stat (param i32 i32)))
    (import "wasi" "get-flags" (func $get_flags (param i32 i32)))
    (import "wasi" "read-directory" (func $read_dir (param i32 i32)))
    (import "wasi" "read-directory-entry" (func $read_entry (param i32 i32)))
    (import "wasi" "metadata-hash" (func $hash (param i32 i32)))
    (import "wasi" "metadata-hash-at" (func $hash_at (param i32 i32 i32 i32 i32)))
    (data (i32.const 0) "f.txt")
    (data (i32.const 8) "../x")
    (data (i32.const 16) "hello")
    ;; The first preopen's descriptor.
    (func $root (result i32)
      (call $get_dirs (i32.const 64))
      (i32.load (i32.load (i32.const 64))))
    ;; Opens "f.txt" with these open-flags and descriptor-flags; traps if
    ;; that fails.
    (func $open (param $open i32) (param $flags i32) (result i32)
      (call $open_at (call $root) (i32.const 0) (i32.const 0) (i32.const 5)
        (local.get $open) (local.get $flags) (i32.const 128))
      (if (i32.load8_u (i32.const 128)) (then (unreachable)))
      (i32.load (i32.const 132)))
    ;; Creates "f.txt" (create; read, write), writes "hello" at 0, and
    ;; returns what reading 100 bytes at 0 gives.
    (func (export "write-read") (result i32)
      (local $fd i32)
      (local.set $fd (call $open (i32.const 1) (i32.const 3)))
      (call $write (local.get $fd) (i32.const 16) (i32.const 5) (i64.const 0) (i32.const 192))
      (if (i32.load8_u (i32.const 192)) (then (unreachable)))
      (if (i64.ne (i64.load (i32.const 200)) (i64.const 5)) (then (unreachable)))
      (call $read (local.get $fd) (i64.const 100) (i64.const 0) (i32.const 256))
      (if (i32.load8_u (i32.const 256)) (then (unreachable)))
      ;; Not at the end: five bytes came.
      (if (i32.load8_u (i32.const 268)) (then (unreachable)))
      (i32.const 260))
    ;; (type << 32) | (whether a modification time is given << 24) | size.
    (func (export "stat") (result i64)
      (call $stat (call $open (i32.const 0) (i32.const 1)) (i32.const 320))
      (if (i32.load8_u (i32.const 320)) (then (unreachable)))
      (i64.or
        (i64.or
          (i64.shl (i64.load8_u (i32.const 328)) (i64.const 32))
          (i64.shl (i64.load8_u (i32.const 376)) (i64.const 24)))
        (i64.load (i32.const 344))))
    ;; Opening "../x": (result discriminant << 8) | error code.
    (func (export "escape") (result i32)
      (call $open_at (call $root) (i32.const 0) (i32.const 8) (i32.const 4)
        (i32.const 0) (i32.const 1) (i32.const 128))
      (i32.or (i32.shl (i32.load8_u (i32.const 128)) (i32.const 8))
        (i32.load8_u (i32.const 132))))
    ;; The flags of "f.txt" opened for reading and writing.
    (func (export "flags") (result i32)
      (call $get_flags (call $open (i32.const 0) (i32.const 3)) (i32.const 128))
      (if (i32.load8_u (i32.const 128)) (then (unreachable)))
      (i32.load8_u (i32.const 129)))
    ;; The name of the first entry of the preopen.
    (func (export "first-entry") (result i32)
      (call $read_dir (call $root) (i32.const 128))
      (if (i32.load8_u (i32.const 128)) (then (unreachable)))
      (call $read_entry (i32.load (i32.const 132)) (i32.const 448))
      (if (i32.load8_u (i32.const 448)) (then (unreachable)))
      (if (i32.eqz (i32.load8_u (i32.const 452))) (then (unreachable)))
      (i32.const 460))
    ;; Whether the hash of "f.txt" open and by path agree.
    (func (export "hash-same") (result i32)
      (call $hash (call $open (i32.const 0) (i32.const 1)) (i32.const 512))
      (if (i32.load8_u (i32.const 512)) (then (unreachable)))
      (call $hash_at (call $root) (i32.const 0) (i32.const 0) (i32.const 5) (i32.const 576))
      (if (i32.load8_u (i32.const 576)) (then (unreachable)))
      (i32.and
        (i64.eq (i64.load (i32.const 520)) (i64.load (i32.const 584)))
        (i64.eq (i64.load (i32.const 528)) (i64.load (i32.const 592))))))
  (core instance $i (instantiate $m
    (with "libc" (instance $libc))
    (with "wasi" (instance
      (export "get-directories" (func $get_dirs))
      (export "open-at" (func $open_at))
      (export "write" (func $write))
      (export "read" (func $read))
      (export "stat" (func $stat))
      (export "get-flags" (func $get_flags))
      (export "read-directory" (func $read_dir))
      (export "read-directory-entry" (func $read_entry))
      (export "metadata-hash" (func $hash))
      (export "metadata-hash-at" (func $hash_at))))))
  (func (export "write-read") (result (list u8))
    (canon lift (core func $i "write-read") (memory (core memory $libc "mem"))))
  (func (export "stat") (result u64) (canon lift (core func $i "stat")))
  (func (export "escape") (result u32) (canon lift (core func $i "escape")))
  (func (export "flags") (result u32) (canon lift (core func $i "flags")))
  (func (export "first-entry") (result string)
    (canon lift (core func $i "first-entry") (memory (core memory $libc "mem"))))
  (func (export "hash-same") (result u32) (canon lift (core func $i "hash-same"))))

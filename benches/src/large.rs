//! A large, varied module generated deterministically in code, for compile
//! throughput and artifact load.
//!
//! Real programs are megabytes of many mid-sized functions with locals of
//! every type, nested control flow, loads and stores, and calls. Checking in
//! such a binary would bloat the repository and tie the benchmark to one
//! toolchain's output, so it is generated here instead, from a fixed seed:
//! every run and every machine compiles the very same bytes.
//!
//! Whatever the generated code computes must be the same on every engine,
//! because the load benchmark calls it and compares results. So it never
//! divides (no traps), and floats reach integers only through
//! `trunc_sat` and comparisons and never reach memory, so NaN payloads (which
//! engines may legally choose differently) stay unobservable.

use wasm_encoder::{
    BlockType, CodeSection, ExportKind, ExportSection, Function, FunctionSection, InstructionSink,
    MemArg, MemArgTarget, MemorySection, MemoryType, Module, TypeSection, ValType,
};

/// The signatures generated functions use (all return `i32`), so that calls
/// between them exercise several calling conventions.
const SIGNATURES: [&[ValType]; 4] = [
    &[ValType::I32, ValType::I32],
    &[ValType::I32, ValType::I64],
    &[ValType::F64, ValType::I32, ValType::I64],
    &[ValType::I64, ValType::F64],
];

/// Type index of the exported `run: (i32) -> i64`.
const RUN_TYPE: u32 = SIGNATURES.len() as u32;

/// Extra locals per function beyond the parameters: scratch values of each
/// type, then one loop counter per nesting level.
const SCRATCH_LOCALS: [(u32, ValType); 3] =
    [(4, ValType::I32), (2, ValType::I64), (2, ValType::F64)];
const MAX_LOOP_DEPTH: u32 = 2;
const MAX_EXPR_DEPTH: u32 = 4;

/// Generates a valid module of at least `min_bytes` bytes from `seed`.
///
/// It exports `run(i32) -> i64`, which calls the first generated function;
/// that function calls nothing, so a first call is cheap and bounded (later
/// functions call earlier ones only, so there is no recursion either).
pub fn module(seed: u64, min_bytes: usize) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut types = TypeSection::new();
    for params in SIGNATURES {
        types.ty().function(params.iter().copied(), [ValType::I32]);
    }
    types.ty().function([ValType::I32], [ValType::I64]);

    let mut sigs = Vec::new();
    let mut code = CodeSection::new();
    while code.byte_len() < min_bytes {
        let sig = rng.below(SIGNATURES.len() as u32);
        let body = FuncGen::new(&mut rng, sig, &sigs).generate();
        code.function(&body);
        sigs.push(sig);
    }
    // `run` comes last so generated functions keep indices 0..n.
    let run_index = sigs.len() as u32;
    let mut run = Function::new([]);
    {
        let mut ins = run.instructions();
        for &param in SIGNATURES[sigs[0] as usize] {
            ins.local_get(0);
            match param {
                ValType::I64 => ins.i64_extend_i32_s(),
                ValType::F64 => ins.f64_convert_i32_s(),
                _ => &mut ins,
            };
        }
        ins.call(0).i64_extend_i32_u().end();
    }
    code.function(&run);

    let mut funcs = FunctionSection::new();
    for &sig in &sigs {
        funcs.function(sig);
    }
    funcs.function(RUN_TYPE);
    let mut memory = MemorySection::new();
    memory.memory(MemoryType {
        minimum: 1,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    let mut exports = ExportSection::new();
    exports.export("run", ExportKind::Func, run_index);

    let mut module = Module::new();
    module
        .section(&types)
        .section(&funcs)
        .section(&memory)
        .section(&exports)
        .section(&code);
    module.finish()
}

/// splitmix64: tiny, fast and fully determined by its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u32) -> u32 {
        (self.next() % u64::from(n)) as u32
    }

    /// True with probability `percent`%.
    fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent
    }
}

/// Generates one function body.
struct FuncGen<'a> {
    rng: &'a mut Rng,
    /// Signatures of the functions defined so far (callable from this one).
    callees: &'a [u32],
    locals: Vec<ValType>,
    /// First loop-counter local.
    counters: u32,
    func: Function,
    calls_left: u32,
}

impl<'a> FuncGen<'a> {
    fn new(rng: &'a mut Rng, sig: u32, callees: &'a [u32]) -> FuncGen<'a> {
        let mut locals = SIGNATURES[sig as usize].to_vec();
        let mut decls = Vec::new();
        for (n, ty) in SCRATCH_LOCALS {
            decls.push((n, ty));
            locals.extend(std::iter::repeat_n(ty, n as usize));
        }
        let counters = locals.len() as u32;
        decls.push((MAX_LOOP_DEPTH, ValType::I32));
        locals.extend(std::iter::repeat_n(ValType::I32, MAX_LOOP_DEPTH as usize));
        FuncGen {
            rng,
            callees,
            locals,
            counters,
            func: Function::new(decls),
            calls_left: 4,
        }
    }

    fn generate(mut self) -> Function {
        let statements = 8 + self.rng.below(40);
        for _ in 0..statements {
            self.statement(0, 0);
        }
        self.expr(ValType::I32, 0);
        self.ins().end();
        self.func
    }

    fn ins(&mut self) -> InstructionSink<'_> {
        self.func.instructions()
    }

    /// A random scratch or parameter local of type `ty`.
    fn local_of(&mut self, ty: ValType) -> u32 {
        let candidates: Vec<u32> = (0..self.counters)
            .filter(|&i| self.locals[i as usize] == ty)
            .collect();
        candidates[self.rng.below(candidates.len() as u32) as usize]
    }

    fn statement(&mut self, nesting: u32, loops: u32) {
        match self.rng.below(100) {
            0..=44 => {
                let ty = self.scalar_type();
                self.expr(ty, 0);
                let local = self.local_of(ty);
                self.ins().local_set(local);
            }
            45..=59 => {
                // A store to a masked, aligned address in the first page.
                let wide = self.rng.chance(50);
                self.address(if wide { 0xfff8 } else { 0xfffc });
                if wide {
                    self.expr(ValType::I64, 0);
                    self.ins().i64_store(mem(3));
                } else {
                    self.expr(ValType::I32, 0);
                    self.ins().i32_store(mem(2));
                }
            }
            60..=71 if nesting < 3 => {
                self.expr(ValType::I32, 0);
                self.ins().if_(BlockType::Empty);
                self.block_of_statements(nesting + 1, loops);
                if self.rng.chance(60) {
                    self.ins().else_();
                    self.block_of_statements(nesting + 1, loops);
                }
                self.ins().end();
            }
            72..=79 if loops < MAX_LOOP_DEPTH => {
                // A counted loop of 1..=3 rounds.
                let counter = self.counters + loops;
                let rounds = 1 + self.rng.below(3) as i32;
                self.ins()
                    .i32_const(rounds)
                    .local_set(counter)
                    .loop_(BlockType::Empty);
                self.block_of_statements(nesting + 1, loops + 1);
                self.ins()
                    .local_get(counter)
                    .i32_const(1)
                    .i32_sub()
                    .local_tee(counter)
                    .br_if(0)
                    .end();
            }
            80..=86 if nesting < 3 => {
                // A three-way `br_table` dispatch over nested blocks.
                self.ins()
                    .block(BlockType::Empty)
                    .block(BlockType::Empty)
                    .block(BlockType::Empty);
                self.expr(ValType::I32, 0);
                self.ins()
                    .i32_const(3)
                    .i32_and()
                    .br_table([0, 1, 2], 2)
                    .end();
                self.block_of_statements(nesting + 1, loops);
                self.ins().br(1).end();
                self.block_of_statements(nesting + 1, loops);
                self.ins().end();
            }
            87..=94 if self.calls_left > 0 && !self.callees.is_empty() => {
                self.calls_left -= 1;
                let callee = self.rng.below(self.callees.len() as u32);
                let sig = self.callees[callee as usize];
                for &param in SIGNATURES[sig as usize] {
                    self.expr(param, 1);
                }
                let local = self.local_of(ValType::I32);
                self.ins().call(callee).local_set(local);
            }
            _ => {
                let ty = self.scalar_type();
                self.expr(ty, 1);
                self.ins().drop();
            }
        }
    }

    fn block_of_statements(&mut self, nesting: u32, loops: u32) {
        for _ in 0..1 + self.rng.below(4) {
            self.statement(nesting, loops);
        }
    }

    fn scalar_type(&mut self) -> ValType {
        match self.rng.below(10) {
            0..=5 => ValType::I32,
            6..=8 => ValType::I64,
            _ => ValType::F64,
        }
    }

    /// An `i32` address masked to `mask` (inside the one-page memory).
    fn address(&mut self, mask: i32) {
        self.expr(ValType::I32, MAX_EXPR_DEPTH - 1);
        self.ins().i32_const(mask).i32_and();
    }

    /// Pushes one value of type `ty`.
    fn expr(&mut self, ty: ValType, depth: u32) {
        if depth >= MAX_EXPR_DEPTH || self.rng.chance(25) {
            return self.leaf(ty);
        }
        let d = depth + 1;
        match ty {
            ValType::I32 => self.expr_i32(d),
            ValType::I64 => self.expr_i64(d),
            _ => self.expr_f64(d),
        }
    }

    fn leaf(&mut self, ty: ValType) {
        let local = self.rng.chance(70).then(|| self.local_of(ty));
        let bits = self.rng.next();
        let mut ins = self.ins();
        match (local, ty) {
            (Some(l), _) => ins.local_get(l),
            (None, ValType::I32) => ins.i32_const(bits as i32 >> (bits % 24)),
            (None, ValType::I64) => ins.i64_const(bits as i64 >> (bits % 48)),
            // Small finite constants: no NaN or infinity ever comes from here.
            (None, _) => ins.f64_const((((bits % 2001) as f64 - 1000.0) / 8.0).into()),
        };
    }

    fn expr_i32(&mut self, d: u32) {
        match self.rng.below(12) {
            0..=4 => {
                self.expr(ValType::I32, d);
                self.expr(ValType::I32, d);
                let op = self.rng.below(16);
                let mut ins = self.ins();
                match op {
                    0 => ins.i32_add(),
                    1 => ins.i32_sub(),
                    2 => ins.i32_mul(),
                    3 => ins.i32_and(),
                    4 => ins.i32_or(),
                    5 => ins.i32_xor(),
                    6 => ins.i32_shl(),
                    7 => ins.i32_shr_s(),
                    8 => ins.i32_shr_u(),
                    9 => ins.i32_rotl(),
                    10 => ins.i32_rotr(),
                    11 => ins.i32_eq(),
                    12 => ins.i32_ne(),
                    13 => ins.i32_lt_s(),
                    14 => ins.i32_gt_u(),
                    _ => ins.i32_le_u(),
                };
            }
            5 => {
                self.expr(ValType::I32, d);
                let op = self.rng.below(5);
                let mut ins = self.ins();
                match op {
                    0 => ins.i32_eqz(),
                    1 => ins.i32_clz(),
                    2 => ins.i32_ctz(),
                    3 => ins.i32_popcnt(),
                    _ => ins.i32_extend8_s(),
                };
            }
            6 => {
                self.expr(ValType::I64, d);
                self.ins().i32_wrap_i64();
            }
            7 => {
                self.expr(ValType::F64, d);
                self.ins().i32_trunc_sat_f64_s();
            }
            8 => {
                self.expr(ValType::F64, d);
                self.expr(ValType::F64, d);
                if self.rng.chance(50) {
                    self.ins().f64_lt();
                } else {
                    self.ins().f64_ge();
                }
            }
            9 => {
                self.address(0xfffc);
                let op = self.rng.below(3);
                let mut ins = self.ins();
                match op {
                    0 => ins.i32_load(mem(2)),
                    1 => ins.i32_load8_u(mem(0)),
                    _ => ins.i32_load16_s(mem(1)),
                };
            }
            10 => {
                self.expr(ValType::I32, d);
                self.expr(ValType::I32, d);
                self.expr(ValType::I32, d);
                self.ins().select();
            }
            _ => {
                self.expr(ValType::I64, d);
                self.expr(ValType::I64, d);
                self.ins().i64_lt_u();
            }
        }
    }

    fn expr_i64(&mut self, d: u32) {
        match self.rng.below(8) {
            0..=4 => {
                self.expr(ValType::I64, d);
                self.expr(ValType::I64, d);
                let op = self.rng.below(8);
                let mut ins = self.ins();
                match op {
                    0 => ins.i64_add(),
                    1 => ins.i64_sub(),
                    2 => ins.i64_mul(),
                    3 => ins.i64_and(),
                    4 => ins.i64_or(),
                    5 => ins.i64_xor(),
                    6 => ins.i64_shl(),
                    _ => ins.i64_rotr(),
                };
            }
            5 => {
                self.expr(ValType::I32, d);
                if self.rng.chance(50) {
                    self.ins().i64_extend_i32_s();
                } else {
                    self.ins().i64_extend_i32_u();
                }
            }
            6 => {
                self.address(0xfff8);
                self.ins().i64_load(mem(3));
            }
            _ => {
                self.expr(ValType::F64, d);
                self.ins().i64_trunc_sat_f64_s();
            }
        }
    }

    fn expr_f64(&mut self, d: u32) {
        match self.rng.below(6) {
            0..=3 => {
                self.expr(ValType::F64, d);
                self.expr(ValType::F64, d);
                let op = self.rng.below(5);
                let mut ins = self.ins();
                match op {
                    0 => ins.f64_add(),
                    1 => ins.f64_sub(),
                    2 => ins.f64_mul(),
                    3 => ins.f64_min(),
                    _ => ins.f64_max(),
                };
            }
            4 => {
                self.expr(ValType::F64, d);
                self.ins().f64_abs().f64_sqrt();
            }
            _ => {
                self.expr(ValType::I32, d);
                self.ins().f64_convert_i32_s();
            }
        }
    }
}

/// A memory argument for memory 0 with natural alignment `2^align`.
fn mem(align: u32) -> MemArg {
    MemArg {
        offset: 0,
        align,
        target: MemArgTarget::Memory(0),
        ordering: None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn deterministic_and_valid() {
        let a = super::module(7, 200_000);
        assert_eq!(a, super::module(7, 200_000));
        assert!(a.len() >= 200_000);
        wasmparser::Validator::new().validate_all(&a).unwrap();
    }
}

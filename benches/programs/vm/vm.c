/* vm: a stack-based bytecode interpreter (switch dispatch, locals, calls)
 * running a loop-heavy guest program assembled at startup: count the primes
 * below a bound by trial division, sum Collatz path lengths, and a
 * recursive fib; prints the three results and the instruction count. */
#include <stdint.h>
#include <stdio.h>
#include "../bench.h"

enum op { PUSH, LOAD, STORE, ADD, SUB, MUL, DIV, MOD, LT, EQ, JMP, JZ, JNZ, CALL, RET, DUP, POP, HALT, PRINT };

static int32_t code[1024];
static int len;
static int64_t results[4];
static int nresults;

static int emit(int32_t op) { code[len] = op; return len++; }
static int emit2(int32_t op, int32_t arg) { code[len] = op; code[len + 1] = arg; len += 2; return len - 1; }
static void patch(int at, int32_t target) { code[at] = target; }

/* Frames: each call gets 8 locals; arguments are popped into locals. */
static int64_t run(uint64_t *steps) {
    int64_t stack[256], locals[8 * 64];
    int sp = 0, fp = 0, pc = 0;
    int rets[64], rsp = 0;
    uint64_t n = 0;
    for (;;) {
        n++;
        switch ((enum op)code[pc++]) {
        case PUSH: stack[sp++] = code[pc++]; break;
        case LOAD: stack[sp++] = locals[fp + code[pc++]]; break;
        case STORE: locals[fp + code[pc++]] = stack[--sp]; break;
        case ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
        case DIV: sp--; stack[sp - 1] /= stack[sp]; break;
        case MOD: sp--; stack[sp - 1] %= stack[sp]; break;
        case LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
        case EQ: sp--; stack[sp - 1] = stack[sp - 1] == stack[sp]; break;
        case JMP: pc = code[pc]; break;
        case JZ: pc = stack[--sp] ? pc + 1 : code[pc]; break;
        case JNZ: pc = stack[--sp] ? code[pc] : pc + 1; break;
        case CALL: /* argument on the stack becomes local 0 */
            rets[rsp++] = pc + 1;
            fp += 8;
            locals[fp] = stack[--sp];
            pc = code[pc];
            break;
        case RET: fp -= 8; pc = rets[--rsp]; break;
        case DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case POP: sp--; break;
        case PRINT: results[nresults++] = stack[--sp]; break;
        case HALT: *steps = n; return sp;
        }
    }
}

/* while (LOAD a < PUSH b) { body } with the condition at the top. */
static void assemble(void) {
    /* local 0: n, 1: d, 2: count, 3: prime flag */
    emit2(PUSH, 0); emit2(STORE, 2);
    emit2(PUSH, 2); emit2(STORE, 0);
    int outer = len;
    emit2(LOAD, 0); emit2(PUSH, 25000); emit(LT); int outer_exit = emit2(JZ, 0);
    emit2(PUSH, 1); emit2(STORE, 3);
    emit2(PUSH, 2); emit2(STORE, 1);
    int inner = len;
    emit2(LOAD, 1); emit2(LOAD, 1); emit(MUL); emit2(LOAD, 0); emit2(PUSH, 1); emit(ADD); emit(LT);
    int inner_exit = emit2(JZ, 0);
    emit2(LOAD, 0); emit2(LOAD, 1); emit(MOD); int divides = emit2(JNZ, 0);
    emit2(PUSH, 0); emit2(STORE, 3); int done = emit2(JMP, 0);
    patch(divides, len);
    emit2(LOAD, 1); emit2(PUSH, 1); emit(ADD); emit2(STORE, 1);
    emit2(JMP, inner);
    patch(inner_exit, len); patch(done, len);
    emit2(LOAD, 2); emit2(LOAD, 3); emit(ADD); emit2(STORE, 2);
    emit2(LOAD, 0); emit2(PUSH, 1); emit(ADD); emit2(STORE, 0);
    emit2(JMP, outer);
    patch(outer_exit, len);
    emit2(LOAD, 2); emit(PRINT);

    /* Collatz: local 0: start, 1: x, 2: total steps */
    emit2(PUSH, 0); emit2(STORE, 2);
    emit2(PUSH, 1); emit2(STORE, 0);
    int c_outer = len;
    emit2(LOAD, 0); emit2(PUSH, 15000); emit(LT); int c_exit = emit2(JZ, 0);
    emit2(LOAD, 0); emit2(STORE, 1);
    int c_inner = len;
    emit2(LOAD, 1); emit2(PUSH, 1); emit(EQ); int c_done = emit2(JNZ, 0);
    emit2(LOAD, 1); emit2(PUSH, 2); emit(MOD); int odd = emit2(JNZ, 0);
    emit2(LOAD, 1); emit2(PUSH, 2); emit(DIV); emit2(STORE, 1); int next = emit2(JMP, 0);
    patch(odd, len);
    emit2(LOAD, 1); emit2(PUSH, 3); emit(MUL); emit2(PUSH, 1); emit(ADD); emit2(STORE, 1);
    patch(next, len);
    emit2(LOAD, 2); emit2(PUSH, 1); emit(ADD); emit2(STORE, 2);
    emit2(JMP, c_inner);
    patch(c_done, len);
    emit2(LOAD, 0); emit2(PUSH, 1); emit(ADD); emit2(STORE, 0);
    emit2(JMP, c_outer);
    patch(c_exit, len);
    emit2(LOAD, 2); emit(PRINT);

    /* fib(24) by recursion */
    emit2(PUSH, 24); int call = emit2(CALL, 0); emit(PRINT); emit(HALT);
    patch(call, len);
    emit2(LOAD, 0); emit2(PUSH, 2); emit(LT); int rec = emit2(JZ, 0);
    emit2(LOAD, 0); emit(RET);
    patch(rec, len);
    emit2(LOAD, 0); emit2(PUSH, 1); emit(SUB); int c1 = emit2(CALL, 0);
    emit2(LOAD, 0); emit2(PUSH, 2); emit(SUB); int c2 = emit2(CALL, 0);
    emit(ADD); emit(RET);
    patch(c1, code[call]); patch(c2, code[call]);
}

int main(void) {
    assemble();
    uint64_t steps = 0;
    bench_start();
    int64_t left = run(&steps);
    bench_end();
    printf("vm: %d words of code, primes below 25000 %lld, collatz steps %lld, fib(24) %lld, "
           "%llu instructions, stack left %lld\n",
           len, (long long)results[0], (long long)results[1], (long long)results[2],
           (unsigned long long)steps, (long long)left);
    return 0;
}

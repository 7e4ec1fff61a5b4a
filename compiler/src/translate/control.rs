//! Structured control flow: wasm blocks, loops and ifs as Cranelift blocks.
//!
//! Every wasm block gets a continuation block whose parameters are the
//! block's results; a loop also gets a header block whose parameters are the
//! loop's parameters. Values defined before an `if` dominate both arms, so
//! the arms need no parameters of their own. Code after an unconditional
//! branch is skipped (only its nesting is tracked) until the `else` or `end`
//! that makes it reachable again.

use super::clif_type;
use super::func::{FuncTranslator, block_args};
use crate::error::Result;
use cmc_runtime::abi::ValType;
use cranelift_codegen::ir::{self, InstBuilder, JumpTableData};
use wasmparser::{BlockType, BrTable, Operator};

/// What kind of wasm construct a frame stands for.
pub(super) enum FrameKind {
    Function,
    Block,
    Loop {
        header: ir::Block,
    },
    If {
        else_block: ir::Block,
        else_seen: bool,
        params: Vec<ir::Value>,
    },
}

/// One entry of the control stack.
pub(super) struct ControlFrame {
    kind: FrameKind,
    /// Where control continues after `end`; its parameters are the results.
    next: ir::Block,
    num_params: usize,
    num_results: usize,
    /// Operand stack height below the frame's parameters.
    height: usize,
    /// Whether anything jumps to `next`.
    exit_reachable: bool,
}

impl ControlFrame {
    pub(super) fn function(exit: ir::Block, num_results: usize) -> ControlFrame {
        ControlFrame {
            kind: FrameKind::Function,
            next: exit,
            num_params: 0,
            num_results,
            height: 0,
            exit_reachable: false,
        }
    }

    /// The block a branch to this frame goes to, and how many values it takes.
    fn branch_target(&self) -> (ir::Block, usize) {
        match self.kind {
            FrameKind::Loop { header } => (header, self.num_params),
            _ => (self.next, self.num_results),
        }
    }
}

impl FuncTranslator<'_, '_> {
    fn block_type(&self, ty: BlockType) -> Result<(Vec<ValType>, Vec<ValType>)> {
        Ok(match ty {
            BlockType::Empty => (vec![], vec![]),
            BlockType::Type(t) => (vec![], vec![crate::module::val_type(t)?]),
            BlockType::FuncType(i) => {
                let ft = &self.env.meta.types[cmc_runtime::abi::TypeIndex::from_u32(i)];
                (ft.params.to_vec(), ft.results.to_vec())
            }
        })
    }

    fn block_with_params(&mut self, tys: &[ValType]) -> ir::Block {
        let block = self.b.create_block();
        for &ty in tys {
            self.b.append_block_param(block, clif_type(ty));
        }
        block
    }

    fn push_frame(&mut self, kind: FrameKind, next: ir::Block, params: usize, results: usize) {
        self.control.push(ControlFrame {
            kind,
            next,
            num_params: params,
            num_results: results,
            height: self.stack.len() - params,
            exit_reachable: false,
        });
    }

    /// Marks the frame `depth` levels up as a branch target and returns where
    /// to jump and with how many values.
    fn target(&mut self, depth: u32) -> (ir::Block, usize) {
        let i = self.control.len() - 1 - depth as usize;
        let frame = &mut self.control[i];
        if !matches!(frame.kind, FrameKind::Loop { .. }) {
            frame.exit_reachable = true;
        }
        frame.branch_target()
    }

    pub(super) fn translate_block(&mut self, ty: BlockType) -> Result<()> {
        let (params, results) = self.block_type(ty)?;
        let next = self.block_with_params(&results);
        self.push_frame(FrameKind::Block, next, params.len(), results.len());
        Ok(())
    }

    pub(super) fn translate_loop(&mut self, ty: BlockType) -> Result<()> {
        let (params, results) = self.block_type(ty)?;
        let header = self.block_with_params(&params);
        let next = self.block_with_params(&results);
        let args = self.popn(params.len());
        self.b.ins().jump(header, &block_args(&args));
        self.b.switch_to_block(header);
        self.stack.extend_from_slice(self.b.block_params(header));
        if self.env.epoch_interruption {
            self.check_epoch();
        }
        self.push_frame(
            FrameKind::Loop { header },
            next,
            params.len(),
            results.len(),
        );
        Ok(())
    }

    pub(super) fn translate_if(&mut self, ty: BlockType) -> Result<()> {
        let (params, results) = self.block_type(ty)?;
        let cond = self.pop();
        let then_block = self.b.create_block();
        let else_block = self.b.create_block();
        let next = self.block_with_params(&results);
        self.b.ins().brif(cond, then_block, &[], else_block, &[]);
        self.b.seal_block(then_block);
        self.b.seal_block(else_block);
        self.b.switch_to_block(then_block);
        let params_values = self.peekn(params.len()).to_vec();
        self.push_frame(
            FrameKind::If {
                else_block,
                else_seen: false,
                params: params_values,
            },
            next,
            params.len(),
            results.len(),
        );
        Ok(())
    }

    pub(super) fn translate_else(&mut self) {
        let reachable = self.reachable;
        let results = if reachable {
            let n = self.control.last().expect("validated").num_results;
            Some(self.popn(n))
        } else {
            None
        };
        let frame = self.control.last_mut().expect("validated: else inside if");
        if let Some(results) = results {
            frame.exit_reachable = true;
            self.b.ins().jump(frame.next, &block_args(&results));
        }
        let FrameKind::If {
            else_block,
            else_seen,
            params,
        } = &mut frame.kind
        else {
            unreachable!("validated: else closes an if");
        };
        *else_seen = true;
        let (else_block, params) = (*else_block, params.clone());
        let height = frame.height;
        self.stack.truncate(height);
        self.stack.extend(params);
        self.b.switch_to_block(else_block);
        self.reachable = true;
    }

    pub(super) fn translate_end(&mut self) {
        let mut frame = self.control.pop().expect("validated: end closes a frame");
        if self.reachable {
            let results = self.popn(frame.num_results);
            self.b.ins().jump(frame.next, &block_args(&results));
            frame.exit_reachable = true;
        }
        match frame.kind {
            FrameKind::If {
                else_block,
                else_seen: false,
                ref params,
            } => {
                // An `if` without `else` passes its parameters through.
                self.b.switch_to_block(else_block);
                self.b.ins().jump(frame.next, &block_args(params));
                frame.exit_reachable = true;
            }
            FrameKind::Loop { header } => self.b.seal_block(header),
            _ => {}
        }
        self.stack.truncate(frame.height);
        self.reachable = frame.exit_reachable;
        if frame.exit_reachable {
            self.b.switch_to_block(frame.next);
            self.b.seal_block(frame.next);
            self.stack
                .extend_from_slice(self.b.block_params(frame.next));
            if let FrameKind::Function = frame.kind {
                let results = self.popn(frame.num_results);
                self.b.ins().return_(&results);
                self.reachable = false;
            }
        }
    }

    pub(super) fn translate_br(&mut self, depth: u32) {
        let (block, arity) = self.target(depth);
        let args = block_args(self.peekn(arity));
        self.b.ins().jump(block, &args);
        self.reachable = false;
    }

    pub(super) fn translate_br_if(&mut self, depth: u32) {
        let cond = self.pop();
        let (block, arity) = self.target(depth);
        let args = block_args(self.peekn(arity));
        let cont = self.b.create_block();
        self.b.ins().brif(cond, block, &args, cont, &[]);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
    }

    pub(super) fn translate_br_table(&mut self, table: &BrTable<'_>) -> Result<()> {
        let index = self.pop();
        let depths = table.targets().collect::<Result<Vec<u32>, _>>()?;
        let (default_block, arity) = self.target(table.default());
        let args = block_args(self.peekn(arity));
        let default = self.b.func.dfg.block_call(default_block, &args);
        let mut calls = Vec::with_capacity(depths.len());
        for depth in depths {
            let (block, _) = self.target(depth);
            calls.push(self.b.func.dfg.block_call(block, &args));
        }
        let jt = self
            .b
            .create_jump_table(JumpTableData::new(default, &calls));
        self.b.ins().br_table(index, jt);
        self.reachable = false;
        Ok(())
    }

    pub(super) fn translate_return(&mut self) {
        let n = self.control[0].num_results;
        let results = self.peekn(n).to_vec();
        self.b.ins().return_(&results);
        self.reachable = false;
    }

    /// Skips an operator in unreachable code, tracking block nesting.
    pub(super) fn translate_unreachable(&mut self, op: &Operator<'_>) -> Result<()> {
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                self.unreachable_depth += 1
            }
            Operator::Else if self.unreachable_depth == 0 => self.translate_else(),
            Operator::End if self.unreachable_depth == 0 => self.translate_end(),
            Operator::End => self.unreachable_depth -= 1,
            _ => {}
        }
        Ok(())
    }
}

// Reads the text form written by print(const Graph&) (src/ir/printer.cpp) back into a Graph,
// so golden tests and pass tests can state graphs as text:
//
//   graph main (%c: bool[], %x: float32[batch,3]) -> (%y: float32[batch,3]) {
//     init %w: float32[3,3]
//     %t = MatMul(%x, %w) #0 "mm"
//     %y = If(%c) {then_branch=
//         graph then_branch () -> (%n: float32[batch,3]) {
//           %n = Neg(%t) #0
//         }
//       , else_branch=
//         graph else_branch () -> (%t: float32[batch,3]) {
//         }
//       } #1 "if"
//   }
//
// Grammar (whitespace, including newlines, is insignificant between tokens, except that a
// plain name runs on through a ':' not followed by whitespace: write "%x: float32", as the printer
// does, not "%x:float32", which reads as the name "x:float32"):
//   graph      := "graph" name "(" [decl {"," decl}] ")" "->" "(" [decl {"," decl}] ")"
//                 "{" {statement} "}"
//   decl       := "%" name ":" type
//   statement  := "init" decl
//               | [ref {"," ref} "="] [op "::"] op "(" [ref {"," ref}] ")"
//                 ["{" attr {"," attr} "}"] ["#" int] [string]
//   ref        := "%" name | "_"                      ("_" = omitted optional input/output)
//   name       := run of [A-Za-z0-9_./+@$:-] and bytes >= 0x80, not ending in ':' | string
//   op         := run of [A-Za-z0-9_.-] | string                (op "::" op = domain::op_type)
//   type       := "?" | kind "(" tensor ")" | tensor            (kind: seq optional map sparse)
//   tensor     := (dtype | "?") ("?" | "[" [dim {"," dim}] "]")    (dtype: float32, int64, …)
//   dim        := digits | "?" | symbol | string             (a quoted "3" is a symbol, not 3)
//   attr       := name "=" value
//   value      := int | float | string | "tensor<" dtype "[" dims "]>" | graph | "<graph>"
//               | "<" attr_type ">" | "[" ints "]" | "[" floats "]" | "[" strings "]"
//               | "[" tensors "]" | "[" graph {graph} "]"
//               | "ints[]" | "floats[]" | "strings[]" | "tensors[]" | "graphs[]"
//   float      := a number with '.', an exponent, inf or nan (the printer writes 1.0, not 1,
//                 and the shortest text that reads back to the same float)
//   string     := '"' with \" \\ \n \t \r escapes '"'
// The printer quotes every name, op type, domain or dim symbol that would not read back as
// itself, and tags empty lists with their type, so print(parse(print(g))) == print(g).
//
// Names resolve like Graph::lookup(): a node input or graph output names a value of its own
// graph or of an enclosing one, wherever in that graph it is defined (so unsorted and cyclic
// graphs round-trip); a name defined nowhere becomes a value without a definer in the graph that
// mentions it. The parser builds structure only: run ir::verify() for SSA, order and type rules.
//
// Not recovered, because the text form does not carry them:
//  - tensor data: initializers and tensor attributes come back zero-filled (string tensors with
//    empty strings) with the printed dtype/shape; a tensor whose shape has unknown dims, or that
//    would take more than 64 MiB, comes back header-only (Tensor::borrow with data() == nullptr)
//    so that no text can make the parser allocate without bound;
//  - types of values that are neither graph inputs, outputs nor initializers (default ValueType);
//  - node opsets (0), and the dtype/shape of a value whose kind is "?".
// Errors are InvalidArgument (K3001) naming the line and column.
#pragma once

#include <memory>
#include <string_view>

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::ir {

Result<std::unique_ptr<Graph>> parse_graph(std::string_view text);

}  // namespace kiln::ir

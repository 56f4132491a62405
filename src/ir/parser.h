// Reads the text form written by print(const Graph&) (src/ir/printer.cpp) back into a Graph,
// so golden tests and pass tests can state graphs as text:
//
//   graph main (%x: float32[batch,3], %c: bool[]) -> (%y: float32[batch,3]) {
//     init %w: float32[3,3]
//     %t = MatMul(%x, %w) #0 "mm"
//     %y = If(%c) {then_branch=
//         graph then (...) -> (%t: float32[batch,3]) {
//         }
//       , else_branch=...} #1
//   }
//
// Grammar (whitespace, including newlines, is insignificant between tokens):
//   graph      := "graph" name "(" [decl {"," decl}] ")" "->" "(" [decl {"," decl}] ")"
//                 "{" {statement} "}"
//   decl       := "%" name ":" type
//   statement  := "init" decl
//               | [ref {"," ref} "="] [op "::"] op "(" [ref {"," ref}] ")"
//                 ["{" attr {"," attr} "}"] ["#" int] [string]
//   ref        := "%" name | "_"                      ("_" = omitted optional input/output)
//   name       := run of [A-Za-z0-9_./+@$:-] and bytes >= 0x80, not ending in ':' | string
//   op         := run of [A-Za-z0-9_.-] | string
//   type       := "?" | kind "(" tensor ")" | tensor            (kind: seq optional map sparse)
//   tensor     := (dtype | "?") ("?" | "[" [dim {"," dim}] "]")    (dtype: float32, int64, …)
//   dim        := digits | "?" | symbol | string
//   attr       := name "=" value
//   value      := int | float | string | "tensor<" dtype "[" dims "]>" | graph | "<graph>"
//               | "<" attr_type ">" | "[" ints "]" | "[" floats "]" | "[" strings "]"
//               | "[" tensors "]" | "[" graph {graph} "]"
//               | "ints[]" | "floats[]" | "strings[]" | "tensors[]" | "graphs[]"
//   float      := a number with '.', an exponent, or inf / nan (the printer writes 1.0, not 1)
//   string     := '"' with \" \\ \n \t \r escapes '"'
//
// Names resolve like Graph::lookup(): a node input or graph output names a value of its own
// graph or of an enclosing one, wherever in that graph it is defined (so unsorted and cyclic
// graphs round-trip); a name defined nowhere becomes a value without a definer in the graph that
// mentions it. The parser builds structure only: run ir::verify() for SSA, order and type rules.
//
// Limitations, because the text form does not carry them:
//  - tensor data: initializers and tensor attributes come back zero-filled (string tensors with
//    empty strings) with the printed dtype/shape; a tensor whose shape has unknown dims, or that
//    would take more than 64 MiB, comes back header-only (data() == nullptr) so that no text can
//    make the parser allocate without bound;
//  - types of values that are neither graph inputs, outputs nor initializers (default ValueType);
//  - node opsets (0) and the ValueType of a value of kind "?";
//  - a float attribute keeps only what the printer writes: the shortest text that reads back to
//    the same float, so floats themselves round-trip exactly.
// Errors are InvalidArgument (K3001) naming the line and column.
#pragma once

#include <memory>
#include <string_view>

#include "ir/graph.h"
#include "kiln/status.h"

namespace kiln::ir {

Result<std::unique_ptr<Graph>> parse_graph(std::string_view text);

}  // namespace kiln::ir

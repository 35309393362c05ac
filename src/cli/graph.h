// `spt --graph`: the domain transition graph of a policy snapshot. Nodes are domains,
// edges are `-d LABEL DOMAIN file_exec grant` rules (labelled with LABEL). Unconfined
// domains are octagons, `warning` domains dashed, `disabled` dotted, runtime (`spt -N`)
// domains grey. Output is Graphviz DOT (or JSON); RenderSvg hands DOT to Graphviz's
// `dot`. The layout is documented in docs/install.md ("Transition graph").
#pragma once

#include <string>

#include "policy/compiled_policy.h"
#include "util/status.h"

namespace sptfs {

// `domain` ("" = all domains) is a domain id or name; with one, the graph keeps that
// domain and every domain on a transition path into or out of it. Appends to *out.
// NotFound (with a hint) for an unknown domain; *out is untouched then.
Status TransitionGraphDot(const CompiledPolicy& policy, const std::string& domain,
                          std::string* out);

// The same graph as one JSON line:
// {"domains":[{"name","id","level","unconfined","runtime"}...],
//  "transitions":[{"from","to","label"}...]}
Status TransitionGraphJson(const CompiledPolicy& policy, const std::string& domain,
                           std::string* out);

// Runs `dot -Tsvg -o FILE` (found on PATH) on `dot_text`. NotFound when Graphviz is not
// installed; Invalid when dot fails (its own message went to stderr).
Status RenderSvg(const std::string& dot_text, const std::string& file);

// RenderSvg for a tool's main: prints "PROGRAM: message" on failure. Exit code 0 or 1.
int WriteGraphSvg(const std::string& dot_text, const std::string& file, const char* program);

}  // namespace sptfs

// The transition graph on the sample policy (policies/esxi) and on small in-memory sets:
// nodes, edges, markings, --domain selection, JSON, and rendering errors.
#include "cli/graph.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "policy/loader.h"
#include "policy/test_util.h"

namespace sptfs {
namespace {

using testing::CompileOrDie;
using testing::Dom;
using testing::Set;

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

size_t Count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

std::shared_ptr<const CompiledPolicy> Esxi() {
  const char* src = std::getenv("SPTFS_SOURCE");
  EXPECT_NE(src, nullptr) << "run through meson test (SPTFS_SOURCE)";
  PolicySet set;
  Status s = LoadPolicySet(std::string(src ? src : ".") + "/policies/esxi", &set);
  EXPECT_TRUE(s.ok()) << s.message();
  LiteralTree tree;
  return CompileOrDie(set, tree);
}

TEST(GraphDot, SamplePolicyHasEveryDomainAndTheTpm2emuTransition) {
  auto policy = Esxi();
  ASSERT_TRUE(policy);
  std::string dot;
  ASSERT_TRUE(TransitionGraphDot(*policy, "", &dot).ok());
  EXPECT_EQ(dot.rfind("digraph sptfs_domains {\n", 0), 0u) << dot;
  EXPECT_EQ(dot.substr(dot.size() - 2), "}\n");
  EXPECT_TRUE(Has(dot, "\"globalVMDom\" -> \"tpm2emuDom\" [label=\"tpm2emuObj\"];\n")) << dot;
  EXPECT_TRUE(Has(dot, "\"daemonFrameworkDom\" -> \"muxDom\" [label=\"muxObj\"];\n"));
  EXPECT_EQ(Count(dot, " -> "), 6u) << dot;  // the sample's six -d rules
  for (const CompiledDomain& d : policy->domains()) {
    EXPECT_TRUE(
        Has(dot, "  \"" + d.name + "\" [label=\"" + d.name + "\\n" + std::to_string(d.id) + " "))
        << d.name;
  }
  EXPECT_TRUE(Has(dot, "\"superDom\" [label=\"superDom\\n0 unconfined\", shape=octagon"));
  EXPECT_TRUE(Has(dot, "\"globalVMDom\" [label=\"globalVMDom\\n4 enforcing\"];"));
}

TEST(GraphDot, DomainSelectionKeepsPathsThroughIt) {
  auto policy = Esxi();
  ASSERT_TRUE(policy);
  std::string by_name, by_id;
  ASSERT_TRUE(TransitionGraphDot(*policy, "globalVMDom", &by_name).ok());
  ASSERT_TRUE(TransitionGraphDot(*policy, "4", &by_id).ok());
  EXPECT_EQ(by_name, by_id);
  EXPECT_EQ(Count(by_name, "[label=\""), 3u) << by_name;  // two nodes, one edge
  EXPECT_TRUE(Has(by_name, "\"globalVMDom\" -> \"tpm2emuDom\" [label=\"tpm2emuObj\"]"));
  EXPECT_FALSE(Has(by_name, "superDom"));
  std::string target;
  ASSERT_TRUE(TransitionGraphDot(*policy, "tpm2emuDom", &target).ok());
  EXPECT_TRUE(Has(target, "\"globalVMDom\" -> \"tpm2emuDom\""));  // predecessors kept
}

TEST(GraphDot, UnknownDomainIsAnErrorAndWritesNothing) {
  auto policy = Esxi();
  ASSERT_TRUE(policy);
  std::string out = "before";
  Status s = TransitionGraphDot(*policy, "noSuchDom", &out);
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_TRUE(Has(s.message(), "unknown domain 'noSuchDom' (expected"));
  EXPECT_EQ(out, "before");
}

TEST(GraphDot, LevelsAndChainsAreMarked) {
  PolicySet set = Set({
      Dom("aDom", 1, {"-d appObj bDom file_exec grant"}),
      Dom("bDom", 2, {"-d keyObj cDom file_exec grant"}, Level::kWarning),
      Dom("cDom", 3, {}, Level::kDisabled),
      Dom("lone\"Dom", 4, {}),
  });
  LiteralTree tree;
  auto policy = CompileOrDie(set, tree);
  ASSERT_TRUE(policy);
  std::string dot;
  ASSERT_TRUE(TransitionGraphDot(*policy, "", &dot).ok());
  EXPECT_TRUE(Has(dot, "\"bDom\" [label=\"bDom\\n2 warning\", style=\"dashed\"];")) << dot;
  EXPECT_TRUE(Has(dot, "\"cDom\" [label=\"cDom\\n3 disabled\", style=\"dotted\"];"));
  EXPECT_TRUE(Has(dot, "\"lone\\\"Dom\""));  // quotes in names are escaped
  std::string chain;
  ASSERT_TRUE(TransitionGraphDot(*policy, "cDom", &chain).ok());
  EXPECT_TRUE(Has(chain, "\"aDom\" -> \"bDom\" [label=\"appObj\"]"));  // two steps back
  EXPECT_TRUE(Has(chain, "\"bDom\" -> \"cDom\" [label=\"keyObj\"]"));
  EXPECT_FALSE(Has(chain, "lone"));
}

TEST(GraphJson, SampleTransitionAsOneLine) {
  auto policy = Esxi();
  ASSERT_TRUE(policy);
  std::string json;
  ASSERT_TRUE(TransitionGraphJson(*policy, "globalVMDom", &json).ok());
  EXPECT_EQ(json,
            "{\"domains\":[{\"name\":\"globalVMDom\",\"id\":4,\"level\":\"enforcing\","
            "\"unconfined\":false,\"runtime\":false},{\"name\":\"tpm2emuDom\",\"id\":" +
                std::to_string(policy->FindDomain("tpm2emuDom")->id) +
                ",\"level\":\"enforcing\",\"unconfined\":false,\"runtime\":false}],"
                "\"transitions\":[{\"from\":\"globalVMDom\",\"to\":\"tpm2emuDom\","
                "\"label\":\"tpm2emuObj\"}]}\n");
}

TEST(RenderSvg, WithoutGraphvizSaysSoAndWritesNothing) {
  testing::TempDir dir;
  const char* path = std::getenv("PATH");
  std::string old = path ? path : "";
  setenv("PATH", dir.path().c_str(), 1);  // an empty directory: no dot
  std::string file = dir.path() + "/g.svg";
  Status s = RenderSvg("digraph x {}\n", file);
  setenv("PATH", old.c_str(), 1);
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_TRUE(Has(s.message(), "Graphviz is not installed")) << s.message();
  EXPECT_FALSE(std::ifstream(file).good());
}

TEST(RenderSvg, RunsDotFromPathWithTheTextOnStdin) {
  // A stand-in `dot` that copies stdin to the -o file: checks argv and stdin plumbing.
  testing::TempDir dir;
  std::string fake = dir.path() + "/dot";
  std::ofstream(fake)
      << "#!/bin/sh\n[ \"$1\" = -Tsvg ] && [ \"$2\" = -o ] || exit 3\ncat > \"$3\"\n";
  ASSERT_EQ(chmod(fake.c_str(), 0755), 0);
  const char* path = std::getenv("PATH");
  std::string old = path ? path : "";
  setenv("PATH", (dir.path() + ":" + old).c_str(), 1);
  std::string file = dir.path() + "/g.svg";
  Status ok = RenderSvg("digraph x {}\n", file);
  std::ofstream(fake) << "#!/bin/sh\necho 'dot: syntax error' >&2\nexit 1\n";
  Status bad = RenderSvg("digraph x {", dir.path() + "/bad.svg");
  setenv("PATH", old.c_str(), 1);
  ASSERT_TRUE(ok.ok()) << ok.message();
  std::stringstream got;
  got << std::ifstream(file).rdbuf();
  EXPECT_EQ(got.str(), "digraph x {}\n");
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(Has(bad.message(), "failed")) << bad.message();
}

}  // namespace
}  // namespace sptfs

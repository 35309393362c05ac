#include "domains/secure_env.h"

#include <gtest/gtest.h>

#include <string>

namespace sptfs {
namespace {

std::string Env(std::initializer_list<const char*> vars) {
  std::string out;
  for (const char* v : vars) out += std::string(v) + '\0';
  return out;
}

TEST(SecureEnv, CleanEnvironmentPasses) {
  EXPECT_EQ(
      UnsafeVariable(Env({"PATH=/bin", "HOME=/", "LANG=C", "XLD_PRELOAD=x", "PYTHONUNBUFFERED=1"})),
      "");
  EXPECT_EQ(UnsafeVariable(""), "");
}

TEST(SecureEnv, LoaderAndInterpreterHooksAreFound) {
  EXPECT_EQ(UnsafeVariable(Env({"PATH=/bin", "LD_PRELOAD=/tmp/e.so"})), "LD_PRELOAD");
  EXPECT_EQ(UnsafeVariable(Env({"LD_LIBRARY_PATH=/tmp"})), "LD_LIBRARY_PATH");
  EXPECT_EQ(UnsafeVariable(Env({"LD_AUDIT=/tmp/a.so"})), "LD_AUDIT");
  EXPECT_EQ(UnsafeVariable(Env({"GCONV_PATH=/tmp"})), "GCONV_PATH");
  EXPECT_EQ(UnsafeVariable(Env({"BASH_FUNC_cat%%=() { id; }"})), "BASH_FUNC_cat%%");
  EXPECT_EQ(UnsafeVariable(Env({"PYTHONPATH=/tmp"})), "PYTHONPATH");
  EXPECT_EQ(UnsafeVariable(Env({"PERL5OPT=-Mevil"})), "PERL5OPT");
  EXPECT_EQ(UnsafeVariable(Env({"ENV=/tmp/rc"})), "ENV");
  // Without a value, and as the last entry without its NUL.
  EXPECT_EQ(UnsafeVariable(std::string("A=1\0LD_PRELOAD", 14)), "LD_PRELOAD");
}

}  // namespace
}  // namespace sptfs

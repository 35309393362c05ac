// Holds the policy in force and swaps it atomically: readers take a snapshot with
// Current() and keep using it for the whole request; writers build a new snapshot off
// to the side and Publish() it. A failed load never reaches Publish().
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "policy/compiled_policy.h"
#include "policy/tree.h"
#include "util/status.h"

namespace sptfs {

class PolicyHolder {
 public:
  std::shared_ptr<const CompiledPolicy> Current() const { return current_.load(); }

  // Load `dir` (empty: the current source dir), compile against `tree`, publish.
  // On any error the current policy stays and the error is returned.
  Status Reload(const std::string& dir, const TreeView& tree, std::vector<std::string>* warnings);

  // Apply `change` to the current snapshot under the writer lock and publish its result;
  // `change` returns nullptr to refuse (then NotFound is returned, nothing changes).
  using Change = std::function<std::shared_ptr<const CompiledPolicy>(const CompiledPolicy&)>;
  Status Update(const Change& change);

  // Called (under the writer lock, so it must be quick and must not publish) after every
  // snapshot published from now on: the stale-rule watcher's wake-up, the sandbox
  // epoch's bump. RemovePublishHook(id): no call after it returns.
  int AddPublishHook(std::function<void()> hook);
  void RemovePublishHook(int id);

 private:
  void PublishLocked(std::shared_ptr<const CompiledPolicy> next);
  std::map<int, std::function<void()>> hooks_;
  int next_hook_ = 0;
  std::mutex writer_;
  std::atomic<std::shared_ptr<const CompiledPolicy>> current_;
};

}  // namespace sptfs

#include "policy/policy_holder.h"

#include "policy/compiler.h"
#include "policy/loader.h"

namespace sptfs {

Status PolicyHolder::Reload(const std::string& dir, const TreeView& tree,
                            std::vector<std::string>* warnings) {
  std::lock_guard<std::mutex> lock(writer_);
  std::shared_ptr<const CompiledPolicy> old = current_.load();
  std::string from = dir.empty() && old ? old->source_dir() : dir;
  if (from.empty()) return Status::Invalid("no policy directory given (expected a directory)");
  PolicySet set;
  if (Status s = LoadPolicySet(from, &set); !s.ok()) return s;
  std::shared_ptr<const CompiledPolicy> next;
  uint64_t generation = old ? old->generation() + 1 : 1;
  if (Status s = Compile(set, tree, generation, &next, warnings); !s.ok()) return s;
  PublishLocked(std::move(next));
  return Status::Ok();
}

Status PolicyHolder::Update(const Change& change) {
  std::lock_guard<std::mutex> lock(writer_);
  std::shared_ptr<const CompiledPolicy> old = current_.load();
  if (!old) return Status::NotFound("no policy loaded (expected a load first)");
  std::shared_ptr<const CompiledPolicy> next = change(*old);
  if (!next) return Status::NotFound("the change was refused (unknown or invalid domain)");
  PublishLocked(std::move(next));
  return Status::Ok();
}

void PolicyHolder::PublishLocked(std::shared_ptr<const CompiledPolicy> next) {
  current_.store(std::move(next));
  for (const auto& [id, hook] : hooks_) hook();
}

int PolicyHolder::AddPublishHook(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(writer_);
  hooks_[next_hook_] = std::move(hook);
  return next_hook_++;
}

void PolicyHolder::RemovePublishHook(int id) {
  std::lock_guard<std::mutex> lock(writer_);
  hooks_.erase(id);
}

}  // namespace sptfs

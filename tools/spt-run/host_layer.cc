#include "host_layer.h"

#include <climits>
#include <cstdlib>

#include "control/client.h"
#include "sandbox/landlock_apply.h"

namespace sptfs {
namespace {

Status Ask(const std::string& socket, const std::vector<std::string>& argv, std::string* out) {
  Reply reply;
  if (Status s = CallDaemon(socket, argv, &reply); !s.ok()) {
    return Status::Invalid("cannot reach the sptfs daemon at " + socket + ": " + s.message());
  }
  if (reply.exit_code != 0) {
    std::string cmd;
    for (const std::string& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    return Status::Invalid("the daemon refused `" + cmd + "` (expected a daemon that gives the " +
                           "host path rules): " + reply.err);
  }
  *out = reply.out;
  return Status::Ok();
}

// The daemon's mount point, as this process (and so the world, without --root) sees it.
Status MountPoint(const std::string& socket, std::string* out) {
  std::string info;
  if (Status s = Ask(socket, {"info"}, &info); !s.ok()) return s;
  size_t at = info.find("mountpoint=");
  if (at == std::string::npos) return Status::Invalid("the daemon's info has no mountpoint=");
  std::string path = info.substr(at + 11, info.find('\n', at) - at - 11);
  char real[PATH_MAX];
  if (realpath(path.c_str(), real) == nullptr) {
    return Status::Io(errno, "cannot resolve the mount point " + path);
  }
  *out = real;
  return Status::Ok();
}

}  // namespace

Status PrepareHostLayer(const std::string& socket, const RunOptions& opts, HostLayer* out,
                        std::string* notice) {
  *out = HostLayer();
  notice->clear();
  const std::string kLoud =
      "spt-run: --no-landlock: host paths outside the mount are not "
      "confined (only what happens under the mount is checked)";
  if (opts.no_landlock) {
    *notice = kLoud;
    return Status::Ok();
  }
  out->abi = LandlockAbi();
  if (out->abi == 0) {
    if (!opts.root) {
      return Status::Invalid(
          "this kernel has no Landlock (ABI 0), so host paths cannot be confined without "
          "--root (expected --root, or --no-landlock to run with host paths not confined)");
    }
    *notice = "spt-run: no Landlock on this kernel: the world is confined by --root alone";
    return Status::Ok();
  }
  std::string text;
  if (Status s = Ask(socket, {"landlock", "domains"}, &text); !s.ok()) return s;
  std::vector<LandlockDomain> all;
  if (Status s = ParseLandlockDomains(text, &all); !s.ok()) return s;
  std::vector<const LandlockDomain*> reach;
  if (Status s = ReachableDomains(all, opts.domain, &reach); !s.ok()) return s;
  for (const LandlockDomain* d : reach) out->reachable.push_back(*d);
  if (opts.root) {
    out->mount = "/";
  } else if (Status s = MountPoint(socket, &out->mount); !s.ok()) {
    return s;
  }
  out->apply = true;
  return Status::Ok();
}

Status ApplyHostLayer(const HostLayer& layer) {
  if (!layer.apply) return Status::Ok();
  std::vector<const LandlockDomain*> reach;
  for (const LandlockDomain& d : layer.reachable) reach.push_back(&d);
  RealHostView host;  // the world's view: after pivot_root with --root
  LandlockPlan plan = PlanLandlock(reach, layer.mount, layer.abi, &host);
  if (!plan.confined) return Status::Ok();  // unconfined or not enforcing: nothing to narrow
  return ApplyLandlock(plan, layer.abi);
}

}  // namespace sptfs

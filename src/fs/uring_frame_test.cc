#include "fs/uring_frame.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace sptfs {
namespace {

// An entry as the kernel fills it: header, fixed argument, payload.
struct TestEntry {
  UringReqHeader header{};
  std::vector<char> buffer;  // kUringPrefix of room, then the payload
  char* payload() { return buffer.data() + kUringPrefix; }
  size_t cap() const { return buffer.size() - kUringPrefix; }

  TestEntry(uint32_t opcode, const std::string& op_arg, const std::string& rest,
            size_t payload_cap = 64)
      : buffer(kUringPrefix + payload_cap, 'x') {
    fuse_in_header in{};
    in.len = static_cast<uint32_t>(sizeof(in) + op_arg.size() + rest.size());
    in.opcode = opcode;
    in.unique = 42;
    in.nodeid = 7;
    memcpy(header.in_out, &in, sizeof(in));
    memcpy(header.op_in, op_arg.data(), op_arg.size());
    memcpy(payload(), rest.data(), rest.size());
    header.ent.payload_sz = static_cast<uint32_t>(rest.size());
  }
};

TEST(UringFrame, RequestBecomesOneDevFuseMessageEndingAtThePayload) {
  TestEntry e(FUSE_WRITE, std::string(40, 'w'), "data bytes");
  char* start = nullptr;
  ssize_t len = UringAssembleRequest(e.header, e.payload(), e.cap(), &start);
  ASSERT_EQ(len, static_cast<ssize_t>(sizeof(fuse_in_header) + 40 + 10));
  EXPECT_EQ(start + len, e.payload() + 10);
  fuse_in_header in;
  memcpy(&in, start, sizeof(in));
  EXPECT_EQ(in.opcode, FUSE_WRITE);
  EXPECT_EQ(in.unique, 42u);
  EXPECT_EQ(std::string(start + sizeof(in), 40), std::string(40, 'w'));
  EXPECT_EQ(std::string(start + sizeof(in) + 40, 10), "data bytes");
}

TEST(UringFrame, ARequestWithoutAFixedArgumentHasOnlyItsPayload) {
  TestEntry e(FUSE_LOOKUP, "", std::string("name\0", 5));
  char* start = nullptr;
  ssize_t len = UringAssembleRequest(e.header, e.payload(), e.cap(), &start);
  ASSERT_EQ(len, static_cast<ssize_t>(sizeof(fuse_in_header) + 5));
  EXPECT_EQ(start + sizeof(fuse_in_header), e.payload());
}

TEST(UringFrame, TheLargestFixedArgumentFitsTheRoomBeforeThePayload) {
  TestEntry e(FUSE_SETATTR, std::string(kUringHeaderArea, 's'), "");
  char* start = nullptr;
  ASSERT_EQ(UringAssembleRequest(e.header, e.payload(), e.cap(), &start),
            static_cast<ssize_t>(sizeof(fuse_in_header) + kUringHeaderArea));
  EXPECT_EQ(start, e.buffer.data());
}

TEST(UringFrame, EntriesThatCannotBeAMessageAreRefused) {
  char* start = nullptr;
  {
    TestEntry e(FUSE_GETATTR, "", "");
    fuse_in_header in{};
    in.len = sizeof(in) - 1;  // shorter than its own header
    memcpy(e.header.in_out, &in, sizeof(in));
    EXPECT_EQ(UringAssembleRequest(e.header, e.payload(), e.cap(), &start), -EINVAL);
  }
  {
    TestEntry e(FUSE_WRITE, "", "abc");
    e.header.ent.payload_sz = 100;  // beyond the buffer
    EXPECT_EQ(UringAssembleRequest(e.header, e.payload(), e.cap(), &start), -EINVAL);
  }
  {
    TestEntry e(FUSE_WRITE, "", "abc");
    e.header.ent.payload_sz = 4;  // more payload than the message holds
    EXPECT_EQ(UringAssembleRequest(e.header, e.payload(), e.cap(), &start), -EINVAL);
  }
  {
    TestEntry e(FUSE_WRITE, "", "");
    fuse_in_header in{};
    in.len = sizeof(in) + kUringHeaderArea + 1;  // a fixed argument larger than op_in
    memcpy(e.header.in_out, &in, sizeof(in));
    EXPECT_EQ(UringAssembleRequest(e.header, e.payload(), e.cap(), &start), -EINVAL);
  }
  EXPECT_EQ(start, nullptr);
}

TEST(UringFrame, AReplyInAnySplitLandsHeaderAndPayloadApart) {
  fuse_out_header out{sizeof(out) + 9, 0, 42};
  std::string a = "abc", b = "defghi";
  // header and data in one piece, then a header alone followed by two pieces
  std::string joined(reinterpret_cast<char*>(&out), sizeof(out));
  joined += a;
  for (int split = 0; split < 2; ++split) {
    UringReqHeader h{};
    std::vector<char> payload(16, 0);
    std::vector<iovec> iov;
    if (split == 0) {
      iov = {{joined.data(), joined.size()}, {b.data(), b.size()}};
    } else {
      iov = {{&out, sizeof(out)}, {a.data(), a.size()}, {b.data(), b.size()}};
    }
    ASSERT_EQ(UringTakeReply(iov.data(), static_cast<int>(iov.size()), &h, payload.data(),
                             payload.size()),
              static_cast<ssize_t>(sizeof(out) + 9));
    fuse_out_header got;
    memcpy(&got, h.in_out, sizeof(got));
    EXPECT_EQ(got.unique, 42u);
    EXPECT_EQ(got.len, sizeof(out) + 9);
    EXPECT_EQ(h.ent.payload_sz, 9u);
    EXPECT_EQ(std::string(payload.data(), 9), "abcdefghi");
  }
}

TEST(UringFrame, AnErrorReplyHasNoPayload) {
  fuse_out_header out{sizeof(out), -ENOENT, 9};
  iovec iov{&out, sizeof(out)};
  UringReqHeader h{};
  h.ent.payload_sz = 77;
  char payload[4];
  ASSERT_EQ(UringTakeReply(&iov, 1, &h, payload, sizeof(payload)),
            static_cast<ssize_t>(sizeof(out)));
  EXPECT_EQ(h.ent.payload_sz, 0u);
  fuse_out_header got;
  memcpy(&got, h.in_out, sizeof(got));
  EXPECT_EQ(got.error, -ENOENT);
}

TEST(UringFrame, RepliesThatDoNotFitOrDisagreeAreRefusedUntouched) {
  UringReqHeader h{};
  char payload[4] = {'k', 'k', 'k', 'k'};
  fuse_out_header big{sizeof(big) + 5, 0, 1};
  std::string data = "12345";
  iovec iov[2] = {{&big, sizeof(big)}, {data.data(), data.size()}};
  EXPECT_EQ(UringTakeReply(iov, 2, &h, payload, sizeof(payload)), -EMSGSIZE);
  fuse_out_header wrong_len{sizeof(wrong_len) + 1, 0, 1};
  iov[0] = {&wrong_len, sizeof(wrong_len)};
  EXPECT_EQ(UringTakeReply(iov, 2, &h, payload, sizeof(payload)), -EINVAL);
  char half[8] = {};
  iovec short_head{half, sizeof(half)};
  EXPECT_EQ(UringTakeReply(&short_head, 1, &h, payload, sizeof(payload)), -EINVAL);
  EXPECT_EQ(std::string(payload, 4), "kkkk");
  EXPECT_EQ(h.ent.payload_sz, 0u);
}

TEST(UringFrame, PayloadSizeIsTheKernelsLargestRequest) {
  EXPECT_EQ(UringPayloadSize(4096, 1, 4096), 8192u);
  EXPECT_EQ(UringPayloadSize(1 << 20, 256, 4096), size_t{1} << 20);
  EXPECT_EQ(UringPayloadSize(1 << 17, 256, 4096), size_t{1} << 20);
  EXPECT_EQ(UringPayloadSize(1 << 20, 0, 4096), size_t{1} << 20);
}

}  // namespace
}  // namespace sptfs

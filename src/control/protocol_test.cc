#include "control/protocol.h"

#include <gtest/gtest.h>

namespace sptfs {
namespace {

std::string Payload(const std::string& frame) { return frame.substr(kFrameHeaderBytes); }

std::string U32(uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
}

TEST(Protocol, RequestRoundTrip) {
  std::vector<std::string> argv = {"spt", "-d", "4", "", "a b"};
  std::string frame;
  ASSERT_TRUE(EncodeRequest(argv, &frame).ok());
  uint32_t len = 0;
  ASSERT_TRUE(DecodeFrameHeader(frame.substr(0, 4), kMaxRequestBytes, &len).ok());
  EXPECT_EQ(len, frame.size() - 4);
  std::vector<std::string> back;
  ASSERT_TRUE(DecodeRequest(Payload(frame), &back).ok());
  EXPECT_EQ(back, argv);
}

TEST(Protocol, ReplyRoundTrip) {
  Reply reply{3, "out\n", "err: x\n"};
  std::string frame = EncodeReply(reply);
  Reply back;
  ASSERT_TRUE(DecodeReply(Payload(frame), &back).ok());
  EXPECT_EQ(back.exit_code, 3);
  EXPECT_EQ(back.out, "out\n");
  EXPECT_EQ(back.err, "err: x\n");
}

TEST(Protocol, FrameHeaderZeroOversizedTruncated) {
  uint32_t len = 7;
  Status s = DecodeFrameHeader(U32(0), kMaxRequestBytes, &len);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("empty frame"), std::string::npos) << s.message();
  s = DecodeFrameHeader(U32(kMaxRequestBytes + 1), kMaxRequestBytes, &len);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("too large"), std::string::npos) << s.message();
  EXPECT_FALSE(DecodeFrameHeader("ab", kMaxRequestBytes, &len).ok());
  EXPECT_EQ(len, 7u);  // untouched on error
  EXPECT_TRUE(DecodeFrameHeader(U32(kMaxRequestBytes), kMaxRequestBytes, &len).ok());
}

TEST(Protocol, MalformedRequestsAreRejected) {
  std::vector<std::string> argv = {"untouched"};
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "magic"},
      {"GET / HTTP/1.1\r\n", "magic"},
      {"SPT1", "argument count"},
      {"SPT1" + U32(0), "argument count 0"},
      {"SPT1" + U32(kMaxArgs + 1), "argument count"},
      {"SPT1" + U32(1), "truncated in argument 1"},
      {"SPT1" + U32(1) + U32(5) + "abc", "truncated in argument 1"},
      {"SPT1" + U32(2) + U32(1) + "a", "truncated in argument 2"},
      {"SPT1" + U32(1) + U32(0xffffffff), "truncated"},
      {"SPT1" + U32(1) + U32(1) + "a" + "junk", "4 bytes after"},
      {"SPT1" + U32(1) + U32(3) + std::string("a\0b", 3), "NUL"},
  };
  for (const auto& [payload, expect] : cases) {
    Status s = DecodeRequest(payload, &argv);
    EXPECT_FALSE(s.ok()) << expect;
    EXPECT_NE(s.message().find(expect), std::string::npos) << s.message();
    EXPECT_EQ(argv, std::vector<std::string>{"untouched"});
  }
}

TEST(Protocol, GarbageNeverCrashes) {
  // Every prefix and a byte flip at every position of a valid request: decode must
  // either succeed or fail cleanly (run under ASan/valgrind to catch overreads).
  std::string frame;
  ASSERT_TRUE(EncodeRequest({"domain", "set", "-n", "appDom", "-l", "warning"}, &frame).ok());
  std::string payload = Payload(frame);
  std::vector<std::string> argv;
  for (size_t n = 0; n < payload.size(); ++n) {
    EXPECT_FALSE(DecodeRequest(payload.substr(0, n), &argv).ok()) << n;
  }
  for (size_t i = 0; i < payload.size(); ++i) {
    std::string bad = payload;
    bad[i] = static_cast<char>(bad[i] ^ 0xA5);
    (void)DecodeRequest(bad, &argv);
  }
  Reply reply;
  EXPECT_FALSE(DecodeReply("SPR1" + U32(0) + U32(10) + "short", &reply).ok());
  EXPECT_FALSE(DecodeReply("SPR1" + U32(0) + U32(0) + U32(0) + "x", &reply).ok());
  EXPECT_FALSE(DecodeReply("SPT1", &reply).ok());
}

TEST(Protocol, EncodeRefusesOversizedAndEmpty) {
  std::string frame;
  EXPECT_FALSE(EncodeRequest({}, &frame).ok());
  EXPECT_FALSE(EncodeRequest({"spt", std::string(kMaxRequestBytes, 'x')}, &frame).ok());
  EXPECT_FALSE(EncodeRequest({std::string("a\0b", 3)}, &frame).ok());
}

}  // namespace
}  // namespace sptfs

#include <gtest/gtest.h>

#include <string>

#include "event/event_id.h"

using namespace mtastream;
using namespace mtastream::event;

static std::string hex(const Sha1Digest& d) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : d) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

TEST(Sha1, KnownVectors) {  // FIPS 180 examples
  EXPECT_EQ(hex(sha1("")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(hex(sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(hex(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(hex(sha1(std::string(1000000, 'a'))), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(Uuid5, MatchesPythonUuid5) {
  // python3: uuid.uuid5(uuid.NAMESPACE_URL, "mtastream:replay:turnstile-event") is the namespace, and
  // uuid.uuid5(that, "A002,R051,02-00-00,59 ST,2023-05-27 04:00:00") the ID below.
  std::string id;
  append_uuid5(replay_event_namespace, "A002,R051,02-00-00,59 ST,2023-05-27 04:00:00", id);
  EXPECT_EQ(id, "54871361-254e-5ab0-8edd-6dcb6003cad3");
  const std::array<uint8_t, 16> url_namespace = {0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
                                                 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
  std::string ns;
  append_uuid5(url_namespace, "mtastream:replay:turnstile-event", ns);
  EXPECT_EQ(ns, "596acf6e-0f10-57a1-a7b3-fca36d723d70");
}

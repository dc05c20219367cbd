// Hashing and byte encodings, each done by the library the binary already links: SHA-1 and base64 by
// OpenSSL (libcrypto), UTF-8 validation by simdjson. Every caller goes through here.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace mtastream {

using Sha1Digest = std::array<uint8_t, 20>;
// SHA-1 of the concatenation of `parts` (a name-based UUID hashes its namespace, then the name).
Sha1Digest sha1(std::initializer_list<std::string_view> parts);
inline Sha1Digest sha1(std::string_view data) { return sha1({data}); }

// RFC 4648 base64 with '=' padding; base64url (the '-' '_' alphabet) without padding, as JWTs use it.
std::string base64_encode(std::string_view data);
std::string base64url_encode(std::string_view data);
template <std::size_t N>
std::string base64_encode(const std::array<unsigned char, N>& bytes) {
  return base64_encode(std::string_view(reinterpret_cast<const char*>(bytes.data()), N));
}

// Strict UTF-8: no overlong forms, surrogates or code points past U+10FFFF.
bool valid_utf8(std::string_view text);
// The length (2 to 4) of the valid multi-byte UTF-8 sequence that starts at text[i], 0 if none does there.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i);

}  // namespace mtastream

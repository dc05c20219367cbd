#include "base/encoding.h"

#include <openssl/evp.h>
#include <simdjson.h>

#include <memory>

#include "base/c_handle.h"
#include "base/error.h"

namespace mtastream {
namespace {

// Fetched once: EVP_sha1() would look the algorithm up again on every call (event IDs hash per event).
const EVP_MD* sha1_algorithm() {
  static const EVP_MD* algorithm = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  if (!algorithm) throw Error("OpenSSL has no SHA-1");
  return algorithm;
}

}  // namespace

Sha1Digest sha1(std::initializer_list<std::string_view> parts) {
  thread_local CHandle<EVP_MD_CTX, EVP_MD_CTX_free> context(EVP_MD_CTX_new());
  Sha1Digest digest{};
  unsigned int length = 0;
  bool ok = context && EVP_DigestInit_ex(context.get(), sha1_algorithm(), nullptr) == 1;
  for (std::string_view part : parts) ok = ok && EVP_DigestUpdate(context.get(), part.data(), part.size()) == 1;
  if (!ok || EVP_DigestFinal_ex(context.get(), digest.data(), &length) != 1 || length != digest.size())
    throw Error("OpenSSL SHA-1 failed");
  return digest;
}

std::string base64_encode(std::string_view data) {
  std::string out((data.size() + 2) / 3 * 4 + 1, '\0');  // EVP_EncodeBlock also writes a NUL
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string base64url_encode(std::string_view data) {
  std::string out = base64_encode(data);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

bool valid_utf8(std::string_view text) { return simdjson::validate_utf8(text.data(), text.size()); }

std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  // The lead byte gives the length; simdjson decides whether those bytes form one valid character.
  const auto lead = static_cast<unsigned char>(text[i]);
  std::size_t n = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
  if (n == 0 || i + n > text.size() || !valid_utf8(text.substr(i, n))) return 0;
  return n;
}

}  // namespace mtastream

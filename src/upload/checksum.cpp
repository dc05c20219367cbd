#include "upload/checksum.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "base/c_handle.h"
#include "base/encoding.h"
#include "base/error.h"

namespace mtastream::upload {
namespace {

using DigestContext = CHandle<EVP_MD_CTX, EVP_MD_CTX_free>;

DigestContext new_digest(const EVP_MD* type) {
  DigestContext context(EVP_MD_CTX_new());
  if (!context || EVP_DigestInit_ex(context.get(), type, nullptr) != 1) throw Error("OpenSSL digest init failed");
  return context;
}

template <std::size_t N>
std::array<unsigned char, N> finish(EVP_MD_CTX* context) {
  std::array<unsigned char, N> out{};
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context, out.data(), &length) != 1 || length != N) throw Error("OpenSSL digest failed");
  return out;
}

// CRC-32C (Castagnoli), reflected polynomial 0x82F63B78, table built once.
struct Crc32cTable {
  std::uint32_t entries[8][256];
  Crc32cTable() {
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t crc = i;
      for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
      entries[0][i] = crc;
    }
    for (std::uint32_t i = 0; i < 256; ++i)
      for (int slice = 1; slice < 8; ++slice)
        entries[slice][i] = (entries[slice - 1][i] >> 8) ^ entries[0][entries[slice - 1][i] & 0xFF];
  }
};
const Crc32cTable crc32c_table;

}  // namespace

std::uint32_t crc32c_update(std::uint32_t crc, const void* data, std::size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  const auto& t = crc32c_table.entries;
  crc = ~crc;
  while (size >= 8) {
    std::uint32_t low = crc ^ (std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 |
                               std::uint32_t(p[3]) << 24);
    crc = t[7][low & 0xFF] ^ t[6][(low >> 8) & 0xFF] ^ t[5][(low >> 16) & 0xFF] ^ t[4][low >> 24] ^
          t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
    p += 8;
    size -= 8;
  }
  while (size-- > 0) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xFF];
  return ~crc;
}

std::string hex_encode(const unsigned char* data, std::size_t size) {
  static const char digits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 15];
  }
  return out;
}

std::array<unsigned char, 16> md5_of(std::string_view data) {
  DigestContext context = new_digest(EVP_md5());
  EVP_DigestUpdate(context.get(), data.data(), data.size());
  return finish<16>(context.get());
}

std::array<unsigned char, 32> sha256_of(std::string_view data) {
  DigestContext context = new_digest(EVP_sha256());
  EVP_DigestUpdate(context.get(), data.data(), data.size());
  return finish<32>(context.get());
}

std::string sha256_hex(std::string_view data) { return hex_encode(sha256_of(data)); }

std::array<unsigned char, 32> hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, 32> out{};
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
            data.size(), out.data(), &length) || length != 32)
    throw Error("OpenSSL HMAC-SHA256 failed");
  return out;
}

std::string FileDigest::md5_hex() const { return hex_encode(md5); }
std::string FileDigest::md5_base64() const { return base64_encode(md5); }
std::string FileDigest::sha256_hex() const { return hex_encode(sha256); }
std::string FileDigest::crc32c_base64() const {
  const char bytes[4] = {static_cast<char>(crc32c >> 24), static_cast<char>(crc32c >> 16),
                         static_cast<char>(crc32c >> 8), static_cast<char>(crc32c)};
  return base64_encode(std::string_view(bytes, 4));
}

FileDigest digest_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  FileDigest digest;
  DigestContext md5 = new_digest(EVP_md5());
  DigestContext sha = new_digest(EVP_sha256());
  std::vector<char> buffer(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      ::close(fd);
      throw Error(fmt::format("{}: read failed: {}", path, std::strerror(saved)));
    }
    if (n == 0) break;
    EVP_DigestUpdate(md5.get(), buffer.data(), static_cast<std::size_t>(n));
    EVP_DigestUpdate(sha.get(), buffer.data(), static_cast<std::size_t>(n));
    digest.crc32c = crc32c_update(digest.crc32c, buffer.data(), static_cast<std::size_t>(n));
    digest.size += static_cast<std::uint64_t>(n);
  }
  ::close(fd);
  digest.md5 = finish<16>(md5.get());
  digest.sha256 = finish<32>(sha.get());
  return digest;
}

}  // namespace mtastream::upload

# Dependencies come from Debian packages (scripts/install-deps.sh). For `make static`
# (MTASTREAM_STATIC=ON) librdkafka, libcurl, libpq (without GSSAPI/LDAP) and simdjson are built from Debian's source packages by
# the recipes in third_party/ (scripts/build-static.sh runs them first), libmicrohttpd too (without
# TLS: Debian's .a needs GnuTLS's static dependencies, which Debian does not ship), fmt is header-only, and
# OpenSSL, zstd, zlib and libdeflate are Debian's static libraries: the binary depends on the C library only.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

add_library(mtastream_deps INTERFACE)
target_compile_definitions(mtastream_deps INTERFACE TOML_HEADER_ONLY=1)

if(MTASTREAM_STATIC)
  set(THIRD_PARTY_BUILD "${CMAKE_SOURCE_DIR}/third_party/build")
  set(RDKAFKA_PREFIX "${THIRD_PARTY_BUILD}/librdkafka-install")
  set(CURL_PREFIX "${THIRD_PARTY_BUILD}/curl-install")
  set(MICROHTTPD_PREFIX "${THIRD_PARTY_BUILD}/microhttpd-install")
  set(LIBPQ_PREFIX "${THIRD_PARTY_BUILD}/libpq-install")
  file(GLOB SIMDJSON_SINGLEHEADER "${THIRD_PARTY_BUILD}/src/simdjson-*/singleheader")
  foreach(required "${RDKAFKA_PREFIX}/lib/librdkafka.a" "${CURL_PREFIX}/lib/libcurl.a"
                   "${MICROHTTPD_PREFIX}/lib/libmicrohttpd.a" "${LIBPQ_PREFIX}/lib/libpq.a" "${SIMDJSON_SINGLEHEADER}")
    if(NOT EXISTS "${required}")
      message(FATAL_ERROR "MTASTREAM_STATIC: ${required} is missing; run scripts/build-static.sh (make static)")
    endif()
  endforeach()

  # Debian's static archives, found by their file names so that no shared library slips in.
  foreach(lib ssl crypto zstd z deflate)
    find_library(STATIC_${lib} NAMES lib${lib}.a REQUIRED)
  endforeach()

  # simdjson: its single-header amalgamation from the source package, compiled into the binary.
  add_library(mtastream_simdjson STATIC "${SIMDJSON_SINGLEHEADER}/simdjson.cpp")
  target_include_directories(mtastream_simdjson SYSTEM BEFORE PUBLIC "${SIMDJSON_SINGLEHEADER}")

  find_package(fmt REQUIRED)
  target_include_directories(mtastream_deps SYSTEM BEFORE INTERFACE "${RDKAFKA_PREFIX}/include" "${CURL_PREFIX}/include"
                                                                    "${MICROHTTPD_PREFIX}/include" "${LIBPQ_PREFIX}/include")
  target_compile_definitions(mtastream_deps INTERFACE CURL_STATICLIB)
  target_link_libraries(mtastream_deps INTERFACE
    mtastream_simdjson fmt::fmt-header-only
    "${RDKAFKA_PREFIX}/lib/librdkafka.a" "${CURL_PREFIX}/lib/libcurl.a" "${MICROHTTPD_PREFIX}/lib/libmicrohttpd.a"
    "${LIBPQ_PREFIX}/lib/libpq.a" "${LIBPQ_PREFIX}/lib/libpgcommon_shlib.a" "${LIBPQ_PREFIX}/lib/libpgport_shlib.a"
    ${STATIC_ssl} ${STATIC_crypto} ${STATIC_zstd} ${STATIC_z} ${STATIC_deflate} Threads::Threads ${CMAKE_DL_LIBS} m)
  target_link_options(mtastream_deps INTERFACE -static-libstdc++ -static-libgcc)
else()
  find_package(ZLIB REQUIRED)
  find_package(CURL REQUIRED)
  find_package(OpenSSL REQUIRED)
  find_package(fmt REQUIRED)
  pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)
  pkg_check_modules(SIMDJSON REQUIRED IMPORTED_TARGET simdjson)
  pkg_check_modules(LIBDEFLATE REQUIRED IMPORTED_TARGET libdeflate)
  pkg_check_modules(MICROHTTPD REQUIRED IMPORTED_TARGET libmicrohttpd)
  pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
  target_link_libraries(mtastream_deps INTERFACE PkgConfig::RDKAFKA PkgConfig::SIMDJSON PkgConfig::MICROHTTPD
                                                 PkgConfig::LIBPQ
                                                 fmt::fmt CURL::libcurl
                                                 OpenSSL::Crypto ZLIB::ZLIB PkgConfig::LIBDEFLATE Threads::Threads)
endif()

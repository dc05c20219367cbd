# Dependencies come from Debian packages (scripts/install-deps.sh); for `make static` librdkafka
# is built from Debian's source package by third_party/build-librdkafka.sh.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
find_package(CURL REQUIRED)
find_package(fmt REQUIRED)

add_library(mtastream_deps INTERFACE)
target_compile_definitions(mtastream_deps INTERFACE TOML_HEADER_ONLY=1)

if(MTASTREAM_STATIC)
  set(RDKAFKA_PREFIX "${CMAKE_SOURCE_DIR}/third_party/build/librdkafka-install")
  target_include_directories(mtastream_deps INTERFACE "${RDKAFKA_PREFIX}/include")
  target_link_libraries(mtastream_deps INTERFACE "${RDKAFKA_PREFIX}/lib/librdkafka.a")
else()
  pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)
  target_link_libraries(mtastream_deps INTERFACE PkgConfig::RDKAFKA)
endif()

pkg_check_modules(SIMDJSON REQUIRED IMPORTED_TARGET simdjson)
target_link_libraries(mtastream_deps INTERFACE PkgConfig::SIMDJSON fmt::fmt CURL::libcurl ZLIB::ZLIB Threads::Threads)

# Every third-party library bandoso uses, each from a Debian 12 package (see README).
find_package(PkgConfig REQUIRED)
find_package(GDAL CONFIG REQUIRED)
find_package(GEOS CONFIG REQUIRED)
find_package(PROJ CONFIG REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(fmt REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(ICU REQUIRED COMPONENTS uc i18n)
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Boost REQUIRED COMPONENTS filesystem regex system)
find_package(Freetype REQUIRED)
find_package(PNG REQUIRED)  # the QR codes' PNGs (and the tests' PNG checks)
pkg_check_modules(SPATIALITE REQUIRED IMPORTED_TARGET spatialite)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
pkg_check_modules(PISTACHE REQUIRED IMPORTED_TARGET libpistache)
pkg_check_modules(GMIME REQUIRED IMPORTED_TARGET gmime-3.0)  # multipart/form-data uploads
pkg_check_modules(CAIRO REQUIRED IMPORTED_TARGET cairo)
pkg_check_modules(HARFBUZZ REQUIRED IMPORTED_TARGET harfbuzz)
pkg_check_modules(QRENCODE REQUIRED IMPORTED_TARGET libqrencode)  # QR codes of the citizen pages

# yaml-cpp 0.7 in Debian exports a plain `yaml-cpp` target.
if(NOT TARGET yaml-cpp::yaml-cpp)
  add_library(yaml-cpp::yaml-cpp INTERFACE IMPORTED)
  target_link_libraries(yaml-cpp::yaml-cpp INTERFACE yaml-cpp)
endif()

# Mapnik ships neither a CMake config nor a .pc file. Its defines must match the library build
# (-DBIGINT changes mapnik::value_integer), so take them from mapnik-config, but not its
# --cxxflags (they force -std=c++14).
find_program(MAPNIK_CONFIG mapnik-config REQUIRED)
execute_process(COMMAND ${MAPNIK_CONFIG} --defines OUTPUT_VARIABLE MAPNIK_DEFINES OUTPUT_STRIP_TRAILING_WHITESPACE)
execute_process(COMMAND ${MAPNIK_CONFIG} --input-plugins OUTPUT_VARIABLE MAPNIK_INPUT_PLUGINS OUTPUT_STRIP_TRAILING_WHITESPACE)
separate_arguments(MAPNIK_DEFINES)
list(FILTER MAPNIK_DEFINES EXCLUDE REGEX "^-DNDEBUG$")
list(TRANSFORM MAPNIK_DEFINES REPLACE "^-D" "")
find_library(MAPNIK_LIBRARY NAMES mapnik REQUIRED)
add_library(Mapnik::mapnik INTERFACE IMPORTED)
target_compile_definitions(Mapnik::mapnik INTERFACE ${MAPNIK_DEFINES})
target_include_directories(Mapnik::mapnik SYSTEM INTERFACE /usr/include/mapnik /usr/include/mapnik/agg)
target_link_libraries(Mapnik::mapnik INTERFACE ${MAPNIK_LIBRARY} Boost::filesystem Boost::regex Boost::system
  ICU::uc ICU::i18n Freetype::Freetype PkgConfig::CAIRO PkgConfig::HARFBUZZ)

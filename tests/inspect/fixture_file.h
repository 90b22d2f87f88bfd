// fixture_file.h — reading the files under tests/inspect/fixtures.
#ifndef MEMKIT_TESTS_INSPECT_FIXTURE_FILE_H_
#define MEMKIT_TESTS_INSPECT_FIXTURE_FILE_H_

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace memkit::testing {

inline std::string fixture_path(const std::string& name) {
  return std::string(MEMKIT_INSPECT_FIXTURES) + "/" + name;
}

inline std::string read_fixture(const std::string& name) {
  std::ifstream in(fixture_path(name), std::ios::binary);
  if (!in) throw std::runtime_error("missing fixture " + fixture_path(name));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace memkit::testing

#endif  // MEMKIT_TESTS_INSPECT_FIXTURE_FILE_H_

// Static C++ objects: a global std::string and std::vector are destroyed at exit (freed), a
// function-local static map that holds heap nodes too; a leaked std::string buffer is lost.
#include <cstdio>
#include <map>
#include <string>
#include <vector>
std::string g_name(64, 'x');
std::vector<int> g_numbers(1000, 7);
static std::map<int, std::string>& registry() {
  static std::map<int, std::string> table;
  return table;
}
int main() {
  for (int i = 0; i < 10; ++i) registry()[i] = std::string(40, static_cast<char>('a' + i));
  auto* lost = new std::string(100, 'z');
  lost = nullptr;
  std::printf("%zu %zu %zu\n", g_name.size(), g_numbers.size(), registry().size());
  return 0;
}

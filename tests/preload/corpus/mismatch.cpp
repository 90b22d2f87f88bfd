// Mismatched releases (new[] then delete, malloc then delete, new then free) and a double free:
// errors valgrind reports as "Mismatched free() / delete / delete []" and "Invalid free()".
#include <cstdlib>
int main() {
  int *a = new int[4];
  delete a;
  int *b = static_cast<int *>(std::malloc(4));
  delete b;
  int *c = new int;
  std::free(c);
  char *d = static_cast<char *>(std::malloc(10));
  std::free(d);
  std::free(d);
  return 0;
}

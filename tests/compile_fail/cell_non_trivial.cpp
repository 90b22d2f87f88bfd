// Cell copies its value in and out and never lends a reference, so it only holds trivially
// copyable values; a std::string belongs in a RefCell.
#include <string>

#include "memkit/own/cell.h"

int main() {
#ifdef MEMKIT_COMPILE_FAIL_CONTROL
  memkit::Cell<int> cell(1);
  cell.set(2);
  return cell.get() - 2;
#else
  memkit::Cell<std::string> cell;  // error: std::string is not trivially copyable
  return 0;
#endif
}

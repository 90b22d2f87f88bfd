// Uses an installed memkit through its public headers only.
#include <memkit/own/box.h>
#include <memkit/own/rc.h>
#include <memkit/version.h>

#include <iostream>

int main() {
  auto box = memkit::Box<int>::make(41);
  auto rc = memkit::Rc<int>::make(1);
  const int answer = *box + 1;
  std::cout << "memkit " << memkit::version() << ": box holds " << *box << ", answer " << answer
            << ", rc strong_count " << rc.strong_count() << "\n";
  return (answer == 42 && rc.strong_count() == 1) ? 0 : 1;
}

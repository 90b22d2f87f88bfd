// An Rc's counts are not atomic, so memkit::spawn refuses to hand one to another thread; an Arc
// is fine.
#include "memkit/own/arc.h"
#include "memkit/own/rc.h"
#include "memkit/own/thread.h"

int main() {
#ifdef MEMKIT_COMPILE_FAIL_CONTROL
  auto shared = memkit::Arc<int>::make(1);
  auto worker = memkit::spawn([](memkit::Arc<int> n) { (void)*n; }, shared);
#else
  auto shared = memkit::Rc<int>::make(1);
  auto worker = memkit::spawn([](memkit::Rc<int> n) { (void)*n; }, shared);  // error: not Send
#endif
  worker.join();
}

// where_is — stack, heap, data, bss, read-only data and code: where a program's things live.
//
// Every tutorial on memory draws the same picture: code at the bottom, then constants, then
// globals, the heap growing up, the stack growing down from the top. memkit::inspect::classify()
// looks an address up in this process's real map (/proc/self/maps) and says which part it is
// in, so the picture can be checked instead of believed:
//
//   * a local variable lives in its function's stack frame, gone when the function returns;
//   * `new` and malloc hand out heap blocks that live until they are freed — small ones from the
//     brk heap, big ones from mappings of their own;
//   * a global with an initial value is in .data (its value is stored in the executable), one
//     without is in .bss (only its size is stored; the loader gives it zeroed memory);
//   * a string literal is read-only data, and a function is machine code (text), both in the
//     executable or library that defines them;
//   * each thread has a stack of its own.
#include <unistd.h>

#include <cstdint>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "memkit/inspect/classify.h"
#include "memkit/inspect/human_size.h"
#include "memkit/inspect/stack.h"

namespace {

int initialised_counter = 42;  // .data
int zeroed_hits[1024];         // .bss

int add_one(int x) { return x + 1; }  // code, in .text

void show(const std::string& what, const void* address) {
  const auto info = memkit::inspect::classify(address);
  std::cout << "  " << what << " -> ";
  if (!info) {
    std::cout << "nowhere: no mapping holds that address\n";
    return;
  }
  std::cout << memkit::inspect::kind_name(info->kind);
  if (!info->module_name.empty()) std::cout << ", in " << info->module_name;
  std::cout << "\n";
}

}  // namespace

int main() {
  std::cout << "where is it? (classify() looks each address up in /proc/self/maps)\n";

  int local = add_one(6);
  show("a local variable (int local)", &local);

  int* small = new int(7);
  show("a small block from new (new int)", small);

  std::vector<char> big(4 << 20);
  show("a 4 MiB block (std::vector<char>)", big.data());

  show("an initialised global (int counter = 42)", &initialised_counter);
  show("a zero-initialised global (int hits[1024])", &zeroed_hits[0]);
  show("a string literal (\"hello\")", "hello");
  show("a function (add_one)", reinterpret_cast<const void*>(&add_one));
  show("a library function (getpid)", reinterpret_cast<const void*>(&::getpid));

  std::thread([] {
    int on_thread = 1;
    show("a local variable of another thread", &on_thread);
  }).join();

  show("a null pointer", nullptr);
  delete small;

  const memkit::inspect::MainStackInfo stack = memkit::inspect::main_thread_stack();
  std::cout << "\nthe main thread's stack:\n";
  std::cout << "  limit (ulimit -s): "
            << (stack.limit_bytes ? memkit::inspect::human_size(*stack.limit_bytes) : "unlimited")
            << "\n";
  std::cout << "  grown to so far:   " << memkit::inspect::human_size(stack.mapped_bytes) << "\n";
  std::cout << "  in use here:       " << memkit::inspect::human_size(stack.used_bytes) << "\n";
  std::cout << "\nthe stack grows on demand up to its limit; a recursion deeper than that is a "
               "stack overflow.\n";
  return 0;
}

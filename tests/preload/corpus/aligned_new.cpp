// Aligned and nothrow operator new forms, sized delete, and an over-aligned array that leaks.
#include <cstdlib>
#include <new>
struct alignas(64) Wide {
  char bytes[64];
};
Wide *g_kept;
int main() {
  Wide *w = new Wide;    // operator new(size_t, align_val_t)
  delete w;              // operator delete(void*, size_t, align_val_t)
  g_kept = new Wide[3];  // reachable
  Wide *lost = new Wide[2];
  (void)lost;
  lost = nullptr;  // definitely lost
  int *n = new (std::nothrow) int(7);
  delete n;
  void *raw = ::operator new(100, std::align_val_t(256));
  ::operator delete(raw, std::align_val_t(256));
  return 0;
}

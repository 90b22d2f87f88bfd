// valgrind's heuristics: a new[] cookie, multiple inheritance and a length64 prefix each leave
// only an interior pointer, which the heuristic accepts (still reachable; possibly lost with none).
#include <cstdlib>
#include <cstring>
#include <string>
struct D {
  ~D() {}
  int x;
};
struct A {
  virtual ~A() {}
  virtual void f() {}
  long a;
};
struct B {
  virtual ~B() {}
  virtual void g() {}
  long b;
};
struct C : A, B {
  long c;
};
D *garr;
B *gmi;
char *glen64;
int main() {
  garr = new D[10];
  gmi = new C;
  unsigned long *p = (unsigned long *)malloc(8 + 40);
  p[0] = 40;
  glen64 = (char *)(p + 1);
  return 0;
}

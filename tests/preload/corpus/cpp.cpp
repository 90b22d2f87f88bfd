// C++ objects with std::string / std::vector members, new[] and a unique_ptr that frees its node.
#include <memory>
#include <string>
#include <vector>
struct Node {
  std::string name;
  std::vector<int> v;
  Node *next = nullptr;
};
static Node *make(const char *n) {
  Node *x = new Node;
  x->name = n;
  x->name += " with a long enough tail to defeat SSO";
  x->v.resize(10);
  return x;
}
int main() {
  make("leaked");
  auto *arr = new int[100];
  (void)arr;
  std::unique_ptr<Node> ok(make("freed"));
  return 0;
}
